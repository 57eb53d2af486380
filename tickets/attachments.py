"""Work-order attachments: photos of a fault, documents (the workbench's /tickets/ page).

- The type is read from the file's first bytes (JPEG, PNG, WebP, PDF: `sniff`), never
  taken from the client's declared type or the file name; a file over
  `attachments.max_bytes` or of another type is refused before anything is written.
- The file is stored under `attachments.root` as `<ticket id>/<random>.bin`, sealed with
  the at-rest key (kernel/at_rest.py, HOTLINE_AT_REST_KEY) when one is set: the bytes on
  disk are not a JPEG. The row (db/models/attachments.py) keeps the original size and
  sha256; reading checks the sha256, so a swapped or damaged file is never served.
- Attaching writes a ticket_events row (`attached`) in the ticket's own transaction
  (tickets/service_base.py `_mutate`), so the ticket's history shows it; each view or
  download writes an audit_log row (`ticket_attachment.view` / `.download`) before the
  bytes are returned.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from db.models import TicketAttachment
from hotline.services import Services
from kernel.at_rest import AtRest, SealError
from kernel.audit import Actor, audit
from kernel.config.backoffice import AttachmentSettings
from tickets.service import TicketService
from tickets.trail import Trail

# (magic bytes at offset 0, content type); WebP is RIFF....WEBP (checked below).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}


class AttachmentError(Exception):
    """Base of the attachment errors (the API gives each its status)."""


class AttachmentTooLarge(AttachmentError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the file is larger than the limit of {limit} bytes")


class AttachmentTypeRefused(AttachmentError):
    def __init__(self, allowed: list[str]) -> None:
        self.allowed = allowed
        super().__init__(
            "the file is not an accepted type (by its content): accepted are " + ", ".join(allowed)
        )


class EmptyAttachment(AttachmentError):
    def __init__(self) -> None:
        super().__init__("the file is empty")


class AttachmentNotFound(AttachmentError):
    def __init__(self, ref: object) -> None:
        super().__init__(f"attachment {ref} not found")


class AttachmentUnavailable(AttachmentError):
    """The file is missing, altered, or does not open with the key."""


def sniff(data: bytes) -> str | None:
    """The content type from the first bytes, or None for anything else."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def clean_filename(name: str | None, content_type: str) -> str:
    """A display name: no path, no control characters, at most 200 characters, and the
    extension of the real type (a .jpg that is a PDF is shown as .pdf)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem.strip(". ")[:180] or "attachment"
    return stem + EXTENSIONS[content_type]


def check(data: bytes, settings: AttachmentSettings) -> str:
    """The content type of an acceptable file, or the error saying why not."""
    if len(data) > settings.max_bytes:
        raise AttachmentTooLarge(settings.max_bytes)
    if not data:
        raise EmptyAttachment()
    kind = sniff(data)
    if kind is None or kind not in settings.types:
        raise AttachmentTypeRefused(list(settings.types))
    return kind


@dataclass(frozen=True)
class Opened:
    row: TicketAttachment
    data: bytes


class AttachmentStore:
    """Files under the root, sealed at rest when the key is set."""

    def __init__(self, root: Path, at_rest: AtRest) -> None:
        self.root = root
        self.at_rest = at_rest

    def path_of(self, relative: str) -> Path:
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise AttachmentUnavailable(f"attachment path {relative!r} is outside the store")
        return path

    def _write(self, relative: str, data: bytes) -> None:
        path = self.path_of(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        with partial.open("wb") as f:
            f.write(self.at_rest.seal(data))
            f.flush()
            os.fsync(f.fileno())
        partial.replace(path)

    async def write(self, relative: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, relative, data)

    async def discard(self, relative: str) -> None:
        await asyncio.to_thread(self.path_of(relative).unlink, missing_ok=True)

    def _read(self, relative: str) -> bytes:
        try:
            raw = self.path_of(relative).read_bytes()
        except FileNotFoundError:
            raise AttachmentUnavailable("the attachment's file is missing") from None
        try:
            return self.at_rest.open_bytes(raw)
        except SealError as exc:
            raise AttachmentUnavailable(f"the attachment does not open: {exc}") from None

    async def read(self, relative: str) -> bytes:
        return await asyncio.to_thread(self._read, relative)


class AttachmentService:
    def __init__(self, services: Services, tickets: TicketService, at_rest: AtRest) -> None:
        self._services = services
        self._tickets = tickets
        self.settings = services.settings.attachments
        self.store = AttachmentStore(Path(self.settings.root), at_rest)

    async def add(
        self, ticket_id: int, filename: str | None, data: bytes, actor: Actor
    ) -> TicketAttachment:
        kind = check(data, self.settings)
        await self._tickets.get(ticket_id)  # 404 before writing anything
        relative = f"{ticket_id}/{secrets.token_hex(16)}.bin"
        fields: dict[str, Any] = {
            "ticket_id": ticket_id,
            "filename": clean_filename(filename, kind),
            "content_type": kind,
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "path": relative,
            "sealed": self.store.at_rest.enabled,
            "uploaded_by_id": actor.id,
            "uploaded_by_name": actor.name[:80],
        }
        await self.store.write(relative, data)
        added: list[TicketAttachment] = []

        async def change(trail: Trail) -> None:  # re-run whole on a lock conflict
            row = TicketAttachment(**fields, uploaded_at=trail.now)
            trail.session.add(row)
            await trail.session.flush()
            added[:] = [row]
            trail.record(
                "attached",
                field="attachment",
                new=row.filename,
                data={
                    "attachment_id": row.id,
                    "content_type": kind,
                    "size_bytes": len(data),
                    "sealed": row.sealed,
                },
            )

        try:
            await self._tickets._mutate(ticket_id, actor, change)
        except BaseException:
            await self.store.discard(relative)  # nothing refers to it
            raise
        return added[0]

    async def of_ticket(self, ticket_id: int) -> list[TicketAttachment]:
        async with self._services.sessions() as session:
            rows = await session.exec(
                select(TicketAttachment)
                .where(TicketAttachment.ticket_id == ticket_id)
                .order_by(col(TicketAttachment.uploaded_at), col(TicketAttachment.id))
            )
            return list(rows.all())

    async def get(self, attachment_id: int) -> TicketAttachment:
        async with self._services.sessions() as session:
            row = await session.get(TicketAttachment, attachment_id)
        if row is None:
            raise AttachmentNotFound(attachment_id)
        return row

    async def open(self, attachment_id: int, actor: Actor, *, download: bool) -> Opened:
        """The original bytes, after the read is audited (one audit_log row per read)."""
        row = await self.get(attachment_id)
        data = await self.store.read(row.path)
        if hashlib.sha256(data).hexdigest() != row.sha256:
            raise AttachmentUnavailable("the attachment's file was altered (sha256 differs)")
        async with self._services.sessions() as session:
            await audit(
                session,
                actor=actor,
                action="ticket_attachment.download" if download else "ticket_attachment.view",
                object_type="ticket_attachment",
                object_id=attachment_id,
                detail={
                    "ticket_id": row.ticket_id,
                    "filename": row.filename,
                    "size_bytes": row.size_bytes,
                },
                clock=self._services.clock,
            )
        return Opened(row, data)
