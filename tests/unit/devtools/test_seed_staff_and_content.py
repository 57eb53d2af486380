"""Demo staff from config.yaml's skills, knowledge-base articles and notices."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from devtools.seed.content import ARTICLES, kb_articles, notices
from devtools.seed.places import DISTRICTS
from devtools.seed.staff import DEMO_PASSWORD, department_clerks, generate_staff
from kernel.config import load_settings

NOW = dt.datetime(2026, 11, 22, 8, 17, 5, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def skills() -> list[str]:
    return [s.name for s in load_settings("config.yaml").skills]


def test_given_agents_then_usernames_extensions_and_roles_are_as_documented(
    skills: list[str],
) -> None:
    staff = generate_staff(seed=1, agents=12, skills=skills)
    agents = [s for s in staff if s.role == "agent"]
    assert [a.username for a in agents] == [f"agent{i:02d}" for i in range(1, 13)]
    assert [a.extension for a in agents] == [str(1001 + i) for i in range(12)]
    assert Counter(s.role for s in staff) == {"agent": 12, "supervisor": 1, "qa": 1, "admin": 1}
    extensions = [s.extension for s in staff if s.extension]
    assert len(set(extensions)) == len(extensions)
    assert DEMO_PASSWORD


@pytest.mark.parametrize("count", [1, 2, 5, 7, 20])
def test_every_skill_is_covered_and_levels_are_one_to_ten(skills: list[str], count: int) -> None:
    agents = [s for s in generate_staff(seed=3, agents=count, skills=skills) if s.role == "agent"]
    holders = Counter(skill for a in agents for skill in a.skills)
    assert set(holders) == set(skills)
    if count >= 2:
        assert min(holders.values()) >= 2
    for agent in agents:
        assert set(agent.skills) <= set(skills)
        assert all(1 <= level <= 10 for level in agent.skills.values())
        assert "general" in agent.skills
        assert ("english" in agent.skills) == ("en" in agent.languages)
        if "emergency" in agent.skills:
            assert agent.skills["emergency"] >= 6


def test_staff_is_deterministic_for_a_seed(skills: list[str]) -> None:
    assert generate_staff(5, 10, skills) == generate_staff(5, 10, skills)
    assert generate_staff(5, 10, skills) != generate_staff(6, 10, skills)


def test_kb_articles_come_in_chinese_and_english_pairs() -> None:
    rows = kb_articles(NOW)
    assert len(rows) == 2 * len(ARTICLES) >= 16
    by_slug = Counter((r["slug"], r["language"]) for r in rows)
    assert set(by_slug.values()) == {1}
    assert {r["language"] for r in rows} == {"zh", "en"}
    zh = {r["slug"]: r for r in rows if r["language"] == "zh"}
    assert "燃气泄漏" in zh["gas-leak"]["tags"]
    assert "阀门" in zh["gas-leak"]["body"]
    assert {"gas-leak", "how-to-pay", "new-connection", "gas-safety-home"} <= set(zh)
    for row in rows:
        assert row["title"]
        assert len(row["body"]) > (40 if row["language"] == "zh" else 100)
        assert all(tag.isascii() == (row["language"] == "en") for tag in row["tags"])


def test_notices_are_valid_around_now_for_real_districts() -> None:
    rows = notices(seed=1, now=NOW)
    assert rows == notices(seed=1, now=NOW)
    districts = {d.zh for d in DISTRICTS}
    in_force = [r for r in rows if r["valid_from"] <= NOW < r["valid_to"]]
    upcoming = [r for r in rows if r["valid_from"] > NOW]
    expired = [r for r in rows if r["valid_to"] <= NOW]
    assert len(in_force) >= 2
    assert len(upcoming) == 1
    assert len(expired) == 1
    for row in rows:
        assert row["district"] is None or row["district"] in districts
        assert row["valid_from"].tzinfo is not None
        assert row["title_zh"]
        assert row["title_en"]
        assert row["body_zh"]
        assert row["body_en"]
    outages = [r for r in rows if r["kind"] == "outage" and r["district"]]
    assert len({r["district"] for r in outages}) >= 2


def test_each_back_office_department_gets_a_clerk_without_a_phone() -> None:
    departments = [d.name for d in load_settings("config.yaml").tickets.departments]
    clerks = department_clerks(departments)
    assert {c.department for c in clerks} == set(departments) - {"service_center"}
    assert all(c.extension is None and c.role == "agent" for c in clerks)  # never routed
    assert department_clerks(["service_center", "unknown"]) == []
