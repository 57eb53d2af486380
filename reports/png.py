"""SVG -> PNG with rsvg-convert (Debian librsvg2-bin, installed by scripts/bootstrap.sh).

Chosen over a pure-Python rasterizer: librsvg renders text with the system fonts
(fonts-noto-cjk), so Chinese labels come out right, and it is one small package.
"""

from __future__ import annotations

import asyncio
import shutil

RSVG = "rsvg-convert"
TIMEOUT = 20.0


class PngUnavailable(RuntimeError):
    """rsvg-convert is not installed or failed."""


async def svg_to_png(svg: str, *, zoom: float = 1.0) -> bytes:
    exe = shutil.which(RSVG)
    if exe is None:
        raise PngUnavailable("rsvg-convert not found: apt-get install librsvg2-bin")
    proc = await asyncio.create_subprocess_exec(
        exe,
        "--format=png",
        f"--zoom={zoom}",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(svg.encode()), TIMEOUT)
    except TimeoutError as exc:
        proc.kill()
        await proc.wait()
        raise PngUnavailable("rsvg-convert timed out") from exc
    if proc.returncode != 0 or not out.startswith(b"\x89PNG"):
        raise PngUnavailable(f"rsvg-convert failed: {err.decode(errors='replace')[:200]}")
    return out
