"""Must show (issue 4): `hotline-agi` (pyst2) passes the core scenarios when the sandbox
Asterisk 22 runs it as a classic AGI script, with the call record from the CTI bridge.

The sandbox Asterisk lives in a Debian sid chroot without Hotline's Python, so its
agi-bin gets a small bash script (hotline-classic/ivr) that relays the script's stdin
and stdout to a TCP port on the host; there, per connection, `AgiRelay` starts the real
`.venv/bin/hotline-agi` with the socket as its stdin and stdout. hotline-agi thus speaks
classic AGI on stdio exactly as when Asterisk starts it directly.

The callers go through the real [hotline-inbound] and [hotline-ivr]: the channel
variable HOTLINE_AGI=hotline-classic (it shadows the global agi://... URL) makes
[hotline-ivr] run AGI(hotline-classic/ivr,<dialled>), then queue or hang up on the
variables the script set. Prompts are not rendered, so each is a short beep; keys are
timed with SendDTMF's half-second "w" pauses.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db.models import metadata
from devtools.services.asterisk import AsteriskInstance
from tests.harness.cti import CtiStack
from tests.integration.ivr.support import seed_ivr_customers
from tests.ivr_scenarios import UNKNOWN_PHONE, ZHANG, ZHANG_PHONE

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]
REPO = Path(__file__).resolve().parents[3]
HOTLINE_AGI = REPO / ".venv" / "bin" / "hotline-agi"
SCRIPT_DIR = "hotline-classic"  # agi-bin/hotline-classic/ivr
# Open around the clock: hotline-agi runs on the real clock in its own process.
ALWAYS_OPEN = (
    "{"
    + ", ".join(
        f'{d}: [{{start: "00:00", end: "23:59:59"}}]'
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    )
    + "}"
)
START_DELAY = "6"  # seconds from the answer to the first key: hotline-agi starts (~3 s)

RELAY = """#!/bin/bash
# Test relay (tests/integration/ivr/test_ivr_classic_agi.py): classic AGI on this script's
# stdin/stdout <-> the host's hotline-agi on TCP 127.0.0.1:{port}.
exec 3<>/dev/tcp/127.0.0.1/{port} || exit 1
exec 4<&0
cat <&4 >&3 &
cat <&3 &
wait -n
kill $(jobs -p) 2>/dev/null
exit 0
"""


class AgiRelay:
    """Accepts the relay's connections; runs hotline-agi on each socket."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._env, self._log = env, log
        self._stop = threading.Event()
        self.procs: list[subprocess.Popen[bytes]] = []
        self._thread = threading.Thread(target=self._serve, name="agi-relay", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            with conn, self._log.open("ab") as err:
                self.procs.append(
                    subprocess.Popen(
                        [str(HOTLINE_AGI)],
                        stdin=conn.fileno(),
                        stdout=conn.fileno(),
                        stderr=err,
                        env=self._env,
                        cwd=REPO,
                    )
                )

    def close(self) -> list[int]:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()
        codes = []
        for p in self.procs:
            try:
                codes.append(p.wait(20))
            except subprocess.TimeoutExpired:
                p.kill()
                codes.append(p.wait())
        return codes


@dataclass
class Classic:
    cti: CtiStack
    relay: AgiRelay
    ids: dict[int, int]

    async def call(self, caller: str, dtmf: str, hangup_after: float = 3600) -> str:
        extra = {"HOTLINE_AGI": SCRIPT_DIR, "DTMF_DELAY": START_DELAY}
        return await self.cti.call(caller=caller, dtmf=dtmf, hangup_after=hangup_after, extra=extra)

    async def tickets(self, linkedid: str) -> list[dict[str, Any]]:
        tickets, links, calls = (metadata.tables[t] for t in ("tickets", "ticket_calls", "calls"))
        stmt = (
            sa.select(tickets)
            .join(links, links.c.ticket_id == tickets.c.id)
            .join(calls, calls.c.id == links.c.call_id)
            .where(calls.c.linkedid == linkedid)
        )
        async with self.cti.engine.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(stmt)]


@pytest.fixture
def relay(asterisk: AsteriskInstance, db_url: str, tmp_path: Path) -> Iterator[AgiRelay]:
    env = {
        **os.environ,
        **asterisk.settings_env(),
        "HOTLINE_CONFIG": str(REPO / "config.yaml"),
        "HOTLINE_DATABASE__URL": db_url,
        "HOTLINE_BUSINESS_HOURS__WEEKLY": ALWAYS_OPEN,
        "HOTLINE_BUSINESS_HOURS__HOLIDAYS": "[]",
    }
    relay = AgiRelay(env, tmp_path / "hotline-agi.log")
    script = asterisk.agi_dir / SCRIPT_DIR / "ivr"
    script.parent.mkdir(exist_ok=True)
    script.write_text(RELAY.format(port=relay.port))
    script.chmod(0o755)
    try:
        yield relay
    finally:
        codes = relay.close()
        log = (tmp_path / "hotline-agi.log").read_text(errors="replace")
        assert codes, "Asterisk never ran the classic AGI script"
        assert all(c == 0 for c in codes), f"hotline-agi exits {codes}:\n{log}"
        assert "Traceback" not in log, log


@pytest.fixture
async def classic(cti_stack: CtiStack, relay: AgiRelay) -> Classic:
    return Classic(cti_stack, relay, await seed_ivr_customers(cti_stack.sessions))


START = ("start", "hours", "greet", "main")


async def test_identified_by_caller_id_hears_the_balance(classic: Classic) -> None:
    linkedid = await classic.call(ZHANG_PHONE, "1")  # then silence: goodbye
    row = await classic.cti.wait_ended(linkedid, 60)
    assert tuple(row["ivr_path"]) == (*START, "billing", "billing_after", "goodbye")
    assert row["self_service_outcome"] == "self_service"
    assert row["disposition"] == "self_service"
    assert row["customer_id"] == classic.ids[ZHANG.id]
    assert row["tier"] == "A"
    assert await classic.tickets(linkedid) == []


async def test_gas_leak_urgent_ticket_emergency_queue_top_priority(classic: Classic) -> None:
    linkedid = await classic.call(UNKNOWN_PHONE, "2ww1", hangup_after=6)
    row = await classic.cti.wait_ended(linkedid, 60)
    assert tuple(row["ivr_path"]) == (*START, "fault")
    assert row["self_service_outcome"] == "queue"
    assert (row["skill"], row["priority"]) == ("emergency", 1000)
    assert row["queued_at"] is not None  # [hotline-ivr] queued it on the script's variables
    assert row["disposition"] == "abandoned_queue"  # no agent in this test; it hung up
    tickets = await classic.tickets(linkedid)
    assert [(t["priority"], t["category"]) for t in tickets] == [("urgent", "repair")]


async def test_garbage_and_silence_go_to_an_agent(classic: Classic) -> None:
    # 7 (invalid), nothing for one whole try, 8 (invalid): the last try goes to an agent.
    linkedid = await classic.call(UNKNOWN_PHONE, "7" + "w" * 18 + "8", hangup_after=6)
    row = await classic.cti.wait_ended(linkedid, 60)
    assert tuple(row["ivr_path"]) == (*START, "operator")
    assert (row["skill"], row["priority"]) == ("general", 0)
    assert row["self_service_outcome"] == "queue"
    assert row["queued_at"] is not None
