"""Attachments, pure parts: the type comes from the first bytes (not the name or the
declared type), the size limit, display names, and a sealed file that is not a JPEG."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from kernel.at_rest import AtRest, new_key, parse_key
from kernel.config.backoffice import AttachmentSettings
from tickets.attachments import (
    AttachmentStore,
    AttachmentTooLarge,
    AttachmentTypeRefused,
    AttachmentUnavailable,
    EmptyAttachment,
    check,
    clean_filename,
    sniff,
)


def tiny_jpeg(width: int = 8, height: int = 8) -> bytes:
    """A real baseline JPEG, flat grey: one component, one-symbol Huffman tables, every
    8x8 block coded as "DC unchanged" + "end of block" (two bits)."""
    soi, eoi = b"\xff\xd8", b"\xff\xd9"
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes([1] * 64)
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    dc = b"\xff\xc4" + struct.pack(">H", 20) + b"\x00" + bytes([1] + [0] * 15) + b"\x00"
    ac = b"\xff\xc4" + struct.pack(">H", 20) + b"\x10" + bytes([1] + [0] * 15) + b"\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00" + b"\x00\x3f\x00"
    blocks = -(-width // 8) * -(-height // 8)
    bits = "00" * blocks
    bits += "1" * (-len(bits) % 8)  # pad the last byte with ones
    scan = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    return soi + dqt + sof + dc + ac + sos + scan + eoi


def tiny_png(width: int = 4, height: int = 4) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xd0\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (tiny_jpeg(), "image/jpeg"),
        (tiny_png(), "image/png"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n%...", "application/pdf"),
        (b"GIF89a....", None),
        (b"<html><script>", None),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
        (b"", None),
    ],
)
def test_given_bytes_then_the_type_comes_from_their_magic(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


def test_given_a_file_over_the_limit_or_of_another_type_then_it_is_refused() -> None:
    settings = AttachmentSettings(max_bytes=2048, types=["image/jpeg", "application/pdf"])
    assert check(tiny_jpeg(), settings) == "image/jpeg"
    with pytest.raises(AttachmentTooLarge):
        check(b"\xff\xd8\xff" + bytes(3000), settings)
    with pytest.raises(AttachmentTypeRefused, match="image/jpeg, application/pdf"):
        check(tiny_png(), settings)  # a real PNG, but not allowed here
    with pytest.raises(AttachmentTypeRefused):
        check(b"MZ\x90\x00 a program named photo.jpg", settings)
    with pytest.raises(EmptyAttachment):
        check(b"", settings)


@pytest.mark.parametrize(
    ("name", "kind", "shown"),
    [
        ("燃气表.jpg", "image/jpeg", "燃气表.jpg"),
        ("C:\\fotos\\meter.JPG", "image/jpeg", "meter.jpg"),
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("report.pdf.exe", "application/pdf", "report.pdf.pdf"),
        ("bad\x00\nname.png", "image/png", "badname.png"),
        (None, "image/png", "attachment.png"),
        ("", "image/webp", "attachment.webp"),
    ],
)
def test_given_a_client_file_name_then_the_display_name_is_safe(
    name: str | None, kind: str, shown: str
) -> None:
    assert clean_filename(name, kind) == shown


async def test_given_a_key_when_stored_then_the_file_on_disk_is_sealed_and_reads_back(
    tmp_path: Path,
) -> None:
    photo = tiny_jpeg()
    store = AttachmentStore(tmp_path, AtRest(parse_key(new_key())))
    await store.write("7/a.bin", photo)
    on_disk = (tmp_path / "7" / "a.bin").read_bytes()
    assert not on_disk.startswith(b"\xff\xd8")
    assert photo not in on_disk
    assert await store.read("7/a.bin") == photo
    other = AttachmentStore(tmp_path, AtRest(parse_key(new_key())))
    with pytest.raises(AttachmentUnavailable, match="does not open"):
        await other.read("7/a.bin")
    with pytest.raises(AttachmentUnavailable, match="outside"):
        store.path_of("../x.bin")
