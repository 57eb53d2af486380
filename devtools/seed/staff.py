"""Demo staff: agents with skills and levels drawn from config.yaml's skills, plus a
supervisor, a QA reviewer, an administrator and one clerk per back-office department
(who works that department's work orders at /tickets/). Pure: no hashing, no database."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from devtools.seed.customers import Row
from devtools.seed.names import ENGLISH_FIRST, ENGLISH_LAST, GIVEN_CHARS, SURNAMES

DEMO_PASSWORD = "hotline-demo"  # every demo user's password (documented in the README)
FIRST_AGENT_EXTENSION = 1001
STAFF_EXTENSIONS = {"supervisor": "1901", "qa": "1902"}


@dataclass(frozen=True, slots=True)
class StaffSeed:
    username: str
    display_name: str
    role: str
    extension: str | None
    languages: tuple[str, ...]
    skills: dict[str, int] = field(default_factory=dict)  # skill -> level 1..10
    department: str | None = None

    def user_row(self, password_hash: str, now: object) -> Row:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "extension": self.extension,
            "languages": list(self.languages),
            "department": self.department,
            "active": True,
            "password_hash": password_hash,
            "created_at": now,
            "updated_at": now,
        }


def _chinese_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES[:40]) + "".join(
        rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2)))
    )


def generate_staff(seed: int, agents: int, skills: Sequence[str]) -> list[StaffSeed]:
    """`agents` agents (agent01.. on extensions 1001..) and three staff users.

    Everyone has `general` if configured; each agent gets one to three more skills;
    every skill is covered by at least two agents (when there are two); `english`
    goes to agents who speak English; emergency skills go to experienced agents.
    """
    if agents < 0:
        raise ValueError("agents must be >= 0")
    rng = random.Random(seed * 7919 + agents)
    skill_list = list(dict.fromkeys(skills))
    specialist = [s for s in skill_list if s not in ("general", "english")]
    # Round-robin first, so coverage does not depend on luck.
    coverage: dict[int, list[str]] = {i: [] for i in range(agents)}
    if agents:
        for j, skill in enumerate(specialist):
            coverage[(2 * j) % agents].append(skill)
            coverage[(2 * j + 1) % agents].append(skill)
    english_speakers = {i for i in range(agents) if rng.random() < 0.25}
    if "english" in skill_list and agents:
        english_speakers |= {0, min(1, agents - 1)}

    staff: list[StaffSeed] = []
    for i in range(agents):
        chosen = set(coverage[i])
        chosen.update(rng.sample(specialist, k=min(len(specialist), rng.randint(0, 2))))
        if "general" in skill_list:
            chosen.add("general")
        english = i in english_speakers
        if english and "english" in skill_list:
            chosen.add("english")
        levels = {s: rng.randint(3, 10) if s != "general" else rng.randint(4, 9) for s in chosen}
        if "emergency" in levels:
            levels["emergency"] = max(levels["emergency"], 6)
        name = (
            f"{rng.choice(ENGLISH_FIRST)} {rng.choice(ENGLISH_LAST)}"
            if english and rng.random() < 0.3
            else _chinese_name(rng)
        )
        staff.append(
            StaffSeed(
                username=f"agent{i + 1:02d}",
                display_name=name,
                role="agent",
                extension=str(FIRST_AGENT_EXTENSION + i),
                languages=("zh", "en") if english else ("zh",),
                skills=dict(sorted(levels.items())),
                department="service_center",
            )
        )
    staff += [
        StaffSeed(
            "supervisor",
            _chinese_name(rng) + "（主管）",
            "supervisor",
            STAFF_EXTENSIONS["supervisor"],
            ("zh", "en"),
            department="service_center",
        ),
        StaffSeed("qa", _chinese_name(rng) + "（质检）", "qa", STAFF_EXTENSIONS["qa"], ("zh",)),
        StaffSeed("admin", "系统管理员", "admin", None, ("zh", "en")),
    ]
    return staff


# Back-office clerks: role agent (they sign in to the workbench, not the phone queue: no
# extension, so the router never offers them a call), one per department but the center.
CLERKS = {
    "repair_crew": ("repair01", "王师傅（抢修）"),
    "business_office": ("office01", "刘会计（营业）"),
    "network": ("network01", "赵工（管网）"),
    "installation": ("install01", "孙工（安装）"),
}


def department_clerks(departments: Sequence[str]) -> list[StaffSeed]:
    """One clerk for each configured department that has one in CLERKS."""
    return [
        StaffSeed(CLERKS[d][0], CLERKS[d][1], "agent", None, ("zh",), department=d)
        for d in departments
        if d in CLERKS
    ]
