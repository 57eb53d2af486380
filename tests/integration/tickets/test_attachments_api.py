"""Attachments through create_app (SQLite and PostgreSQL): a JPEG is accepted and sealed
on disk with HOTLINE_AT_REST_KEY (the file is not a JPEG) while the download returns the
original bytes; every read is an audit row; the ticket's history shows the attachment;
a file over the limit is 413, another type (whatever it claims to be) 415."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from db.models import Role, User, metadata
from hotline.http import create_app
from hotline.services import Services
from kernel.at_rest import KEY_ENV, MAGIC, new_key
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for
from tests.unit.tickets.test_attachment_files import tiny_jpeg, tiny_png

pytestmark = pytest.mark.integration
AUDIT = metadata.tables["audit_log"]
ROWS = metadata.tables["ticket_attachments"]


def headers_for(services: Services, user: User) -> dict[str, str]:
    token, _ = issuer_for(services).issue(
        user_id=user.id or 0,
        username=user.username,
        display_name=user.display_name,
        role=user.role.value,
        extension=user.extension,
    )
    return bearer(token)


class Bench:
    def __init__(self, services: Services, client: httpx.AsyncClient, root: Path) -> None:
        self.services, self.client, self.root = services, client, root
        self.h: dict[str, str] = {}

    async def ticket(self) -> int:
        r = await self.client.post(
            "/api/tickets",
            json={"category": "repair", "subject": "燃气表漏气", "detect_repeat": False},
            headers=self.h,
        )
        assert r.status_code == 201, r.text
        ticket_id: int = r.json()["ticket"]["id"]
        return ticket_id

    async def upload(
        self, ticket_id: int, data: bytes, name: str = "meter.jpg", declared: str = "image/jpeg"
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/workbench/tickets/{ticket_id}/attachments",
            files={"file": (name, data, declared)},
            headers=self.h,
        )


async def _bench(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: bool) -> Any:
    if key:
        monkeypatch.setenv(KEY_ENV, new_key())
    else:
        monkeypatch.delenv(KEY_ENV, raising=False)
    root = tmp_path / "attachments"
    env = {"HOTLINE_ATTACHMENTS__ROOT": str(root), "HOTLINE_ATTACHMENTS__MAX_BYTES": "4096"}
    async with api_services(db_url, env=env) as services:
        clerk = await add_user(services, "repair01", Role.AGENT, display_name="王师傅")
        async with api_client(create_app(services)) as client:
            bench = Bench(services, client, root)
            bench.h = headers_for(services, clerk)
            yield bench


@pytest.fixture
async def sealed(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Bench]:
    async for bench in _bench(db_url, tmp_path, monkeypatch, key=True):
        yield bench


@pytest.fixture
async def plain(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Bench]:
    async for bench in _bench(db_url, tmp_path, monkeypatch, key=False):
        yield bench


async def test_given_the_key_when_a_jpeg_is_attached_then_disk_is_sealed_and_download_is_original(
    sealed: Bench,
) -> None:
    b = sealed
    photo = tiny_jpeg()
    ticket_id = await b.ticket()
    r = await b.upload(ticket_id, photo, name="燃气表.jpeg")
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["content_type"] == "image/jpeg"
    assert row["filename"] == "燃气表.jpg"
    assert row["size_bytes"] == len(photo)
    assert row["sealed"] is True
    [on_disk] = [p for p in b.root.rglob("*") if p.is_file()]
    raw = on_disk.read_bytes()
    assert not raw.startswith(b"\xff\xd8\xff"), "the file on disk must not be a JPEG"
    assert raw.startswith(MAGIC)
    assert photo not in raw
    got = await b.client.get(
        f"/api/workbench/attachments/{row['id']}", params={"download": True}, headers=b.h
    )
    assert got.status_code == 200, got.text
    assert got.content == photo
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E7%87%83" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"
    inline = await b.client.get(f"/api/workbench/attachments/{row['id']}", headers=b.h)
    assert inline.content == photo
    assert inline.headers["content-disposition"].startswith("inline;")
    listed = await b.client.get(f"/api/workbench/tickets/{ticket_id}/attachments", headers=b.h)
    assert [a["id"] for a in listed.json()] == [row["id"]]
    async with b.services.engine.connect() as conn:
        audits = (
            await conn.execute(
                sa.select(AUDIT.c.action, AUDIT.c.actor_name, AUDIT.c.object_id, AUDIT.c.detail)
                .where(AUDIT.c.object_type == "ticket_attachment")
                .order_by(AUDIT.c.id)
            )
        ).all()
    assert [(a.action, a.actor_name, a.object_id) for a in audits] == [
        ("ticket_attachment.download", "王师傅", str(row["id"])),
        ("ticket_attachment.view", "王师傅", str(row["id"])),
    ]
    assert audits[0].detail["ticket_id"] == ticket_id
    history = (await b.client.get(f"/api/tickets/{ticket_id}/history", headers=b.h)).json()
    attached = [e for e in history if e["action"] == "attached"]
    assert len(attached) == 1
    assert attached[0]["to_value"] == "燃气表.jpg"
    assert attached[0]["data"]["attachment_id"] == row["id"]


async def test_given_no_key_then_the_file_is_plain_and_still_served(plain: Bench) -> None:
    b = plain
    image = tiny_png()
    ticket_id = await b.ticket()
    r = await b.upload(ticket_id, image, name="photo.png", declared="image/png")
    assert r.status_code == 201, r.text
    assert r.json()["sealed"] is False
    [on_disk] = [p for p in b.root.rglob("*") if p.is_file()]
    assert on_disk.read_bytes() == image
    got = await b.client.get(f"/api/workbench/attachments/{r.json()['id']}", headers=b.h)
    assert got.content == image


async def test_given_a_file_too_large_or_of_another_type_then_it_is_refused_and_nothing_kept(
    sealed: Bench,
) -> None:
    b = sealed
    ticket_id = await b.ticket()
    big = tiny_jpeg()[:-2] + bytes(5000) + b"\xff\xd9"
    r = await b.upload(ticket_id, big)
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "attachment_too_large"
    huge = await b.upload(ticket_id, bytes(200_000))  # refused by Content-Length first
    assert huge.status_code == 413
    for data, name, declared in [
        (b"GIF89a\x01\x00\x01\x00", "a.gif", "image/gif"),
        (b"<svg onload=alert(1)>", "photo.jpg", "image/jpeg"),  # lies about its type
        (b"MZ\x90\x00program", "invoice.pdf", "application/pdf"),
    ]:
        r = await b.upload(ticket_id, data, name=name, declared=declared)
        assert r.status_code == 415, r.text
        assert r.json()["error"] == "unsupported_attachment_type"
        assert "image/jpeg" in r.json()["message"]
    empty = await b.upload(ticket_id, b"")
    assert empty.status_code == 422
    no_ticket = await b.upload(999_999, tiny_jpeg())
    assert no_ticket.status_code == 404
    missing = await b.client.get("/api/workbench/attachments/424242", headers=b.h)
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert not [p for p in b.root.rglob("*") if p.is_file()]
    async with b.services.engine.connect() as conn:
        count = (await conn.execute(sa.select(sa.func.count()).select_from(ROWS))).scalar_one()
    assert count == 0


async def test_given_an_altered_file_then_it_is_not_served(sealed: Bench) -> None:
    b = sealed
    ticket_id = await b.ticket()
    r = await b.upload(ticket_id, tiny_jpeg())
    [on_disk] = [p for p in b.root.rglob("*") if p.is_file()]
    raw = bytearray(on_disk.read_bytes())
    raw[-1] ^= 0xFF
    on_disk.write_bytes(bytes(raw))
    got = await b.client.get(f"/api/workbench/attachments/{r.json()['id']}", headers=b.h)
    assert got.status_code == 409
    assert got.json()["error"] == "attachment_unavailable"


async def test_given_an_attachment_row_then_the_database_refuses_to_delete_it(
    sealed: Bench,
) -> None:
    b = sealed
    ticket_id = await b.ticket()
    assert (await b.upload(ticket_id, tiny_jpeg())).status_code == 201
    with pytest.raises(sa.exc.DBAPIError, match="refused"):
        async with b.services.engine.begin() as conn:
            await conn.execute(sa.delete(ROWS))
