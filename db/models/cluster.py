"""The cluster's fences: for each duty run under leadership (kernel/leadership.py), the
highest fencing token that has acted on the database, and when a once-per-slot duty
(the retention purge) last ran. kernel/fencing.py reads and moves these rows."""

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import at_field


class ClusterFence(SQLModel, table=True):
    __tablename__ = "cluster_fences"

    name: str = Field(primary_key=True, max_length=80)  # e.g. leader:default
    token: int = Field(default=0, sa_type=sa.BigInteger)  # the newest term that acted
    holder: str = Field(default="", max_length=64)  # that term's process (node id)
    updated_at: dt.datetime | None = at_field()
    last_run_at: dt.datetime | None = at_field()  # once-per-slot duties: the slot last run
