"""Small value types shared by the config sections."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"{value!r} is not a valid name: use lowercase letters, digits and '_', "
            "starting with a letter (max 40)"
        )
    return value


# Identifiers referenced across sections (skills, queues, departments, ...).
Name = Annotated[str, AfterValidator(_check_name)]


class Strict(BaseModel):
    """Base for every config section: unknown keys are typos, so they are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(Strict):
    """A human label in the center's two languages."""

    zh: str
    en: str

    def get(self, language: str) -> str:
        return self.zh if language.startswith("zh") else self.en
