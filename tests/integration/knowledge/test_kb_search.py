"""Knowledge base: Chinese full-text search (a two-character word finds an article) on
SQLite and PostgreSQL, articles written behind its back, edits, and suggestions for the
screen pop from the caller's IVR choice and open tickets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from db.models import KbArticle
from hotline.services import Services
from knowledge.service import KnowledgeBase
from tests.integration.tickets.support import START, add_user, make_services


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    async for s in make_services(db_url):
        yield s


@pytest.fixture
async def kb(services: Services) -> KnowledgeBase:
    author = await add_user(services, "editor01")
    kb = KnowledgeBase(services)
    await kb.create_article(
        author,
        title="闻到燃气味怎么办",
        body="立即关闭燃气表前阀门，打开门窗通风，不要开关电器，到室外拨打抢险电话。",
        category="safety",
        tags=["燃气泄漏", "紧急", "repair"],
        slug="gas-leak",
    )
    await kb.create_article(
        author,
        title="如何缴纳燃气费、水费",
        body="可通过营业厅、银行代扣、手机银行、微信或支付宝缴费，输入10位户号。",
        category="billing",
        tags=["缴费", "账单"],
        slug="how-to-pay",
    )
    await kb.create_article(
        author,
        title="Meter reading schedule",
        body="Meters are read every two months; the reader carries an ID card.",
        category="service",
        language="en",
    )
    return kb


async def titles(
    kb: KnowledgeBase, query: str, category: str | None = None, language: str | None = None
) -> list[str]:
    return [h.article.title for h in await kb.search(query, category=category, language=language)]


async def test_given_articles_when_searching_a_two_character_word_then_they_are_found(
    kb: KnowledgeBase,
) -> None:
    assert set(await titles(kb, "燃气")) == {"闻到燃气味怎么办", "如何缴纳燃气费、水费"}
    assert await titles(kb, "缴费") == ["如何缴纳燃气费、水费"]
    assert await titles(kb, "阀门") == ["闻到燃气味怎么办"]
    assert await titles(kb, "泄漏") == ["闻到燃气味怎么办"]  # a tag
    assert await titles(kb, "燃气", category="billing") == ["如何缴纳燃气费、水费"]
    assert await titles(kb, "燃气 通风") == ["闻到燃气味怎么办"]
    assert await titles(kb, "气燃") == []
    assert await titles(kb, "meter") == ["Meter reading schedule"]
    assert await titles(kb, "SCHED", language="en") == []  # words, not prefixes
    assert await titles(kb, "Schedule", language="en") == ["Meter reading schedule"]
    assert await titles(kb, "银") == ["如何缴纳燃气费、水费"]  # one character
    assert await titles(kb, "   ") == []


async def test_given_articles_written_elsewhere_or_edited_then_search_follows(
    services: Services, kb: KnowledgeBase
) -> None:
    async with services.sessions() as s:  # like `hotline-dev seed`: straight into the table
        s.add(
            KbArticle(
                title="停水通知查询",
                body="计划停水信息可在热线语音中按区域收听。",
                category="service",
                created_at=START,
                updated_at=START,
            )
        )
        await s.commit()
    assert await titles(kb, "停水") == ["停水通知查询"]

    hit = (await kb.search("缴费"))[0].article
    assert hit.id is not None
    await kb.update_article(
        hit.id, await add_user(services, "editor02"), title="网上缴纳水费", body="支付宝生活缴费"
    )
    assert await titles(kb, "燃气") == ["闻到燃气味怎么办"]
    assert await titles(kb, "网上") == ["网上缴纳水费"]
    await kb.update_article(hit.id, await add_user(services, "editor03"), active=False)
    assert await titles(kb, "网上") == []


async def test_given_a_caller_from_the_repair_menu_then_safety_and_repair_articles_are_suggested(
    kb: KnowledgeBase,
) -> None:
    suggested = await kb.suggest("repair", "main/to_repair", ["repair"])
    assert [a.title for a in suggested] == ["闻到燃气味怎么办"]
    billing = await kb.suggest("billing", ["main", "to_billing"], [])
    assert [a.title for a in billing] == ["如何缴纳燃气费、水费"]
    # An open billing dispute brings billing articles to an agent of another skill.
    mixed = await kb.suggest("general", [], ["billing_dispute"])
    assert [a.title for a in mixed] == ["如何缴纳燃气费、水费"]
    assert await kb.suggest(None, None, []) == []
    assert [a.title for a in await kb.suggest("general", [], [], language="en")] == [
        "Meter reading schedule"
    ]
