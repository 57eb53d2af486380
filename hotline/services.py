"""The services one backend process shares: built once by the composition root
(hotline/runtime.py) and handed to every feature. Nothing here is a module global."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from kernel.bus.port import EventBus
from kernel.clock import Clock, SystemClock
from kernel.config import Settings

if TYPE_CHECKING:
    from cti.commands import PbxCommands


@dataclass
class Services:
    settings: Settings
    bus: EventBus
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # None in a process that has no AMI link of its own (an API-only worker): PBX
    # commands then travel over the bus to the elected bridge.
    pbx: PbxCommands | None = None
    clock: Clock = field(default_factory=SystemClock)
    # Feature singletons registered by the composition root (router, notifiers, ...).
    extras: dict[str, Any] = field(default_factory=dict)
