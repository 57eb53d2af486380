"""Record real Asterisk 22 AMI traffic of the desk's call controls (issue 14), as fixtures.

    .venv/bin/python scripts/record_callcontrol_traces.py [scenario ...]

The sibling of scripts/record_ami_traces.py for call control. Starts a sandbox instance
and, per scenario, the real backend (hotline.runtime.Runtime, role "all", on a fresh SQLite
file: tests/integration/hotline/support.py `staffed_center`) with agents 1001 (business),
1002 (complaint) and 1003 (billing), places a Local-channel caller through the real IVR
(keys "ww5": business, so agent 1001 answers), and drives the controls through the HTTP
API (/api/agent/call/*) exactly as the desk does (tests/integration/callcontrol/). All
along, the sandbox-only `hotline-trace` account (read=all) records every event Asterisk
sends; each scenario writes tests/fixtures/ami/<scenario>.trace (exact TCP reads; see
cti/ami/trace.py), replayed by tests/unit/cti/test_callcontrol_traces.py.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cti.ami.client import AmiClient  # noqa: E402
from cti.ami.trace import TraceWriter  # noqa: E402
from devtools.services.asterisk import (  # noqa: E402
    TEST_AGENT_ENDPOINT,
    AsteriskInstance,
    free_udp_port,
    start_instance,
)
from devtools.services.net import free_port  # noqa: E402
from kernel.config import load_settings  # noqa: E402
from tests.integration.hotline.support import (  # noqa: E402
    AsteriskSide,
    Backend,
    asterisk_side,
    staffed_center,
)
from tests.support import eventually  # noqa: E402

OUT = REPO / "tests" / "fixtures" / "ami"
AGENTS = {"1001": {"business": 8}, "1002": {"complaint": 8}, "1003": {"billing": 8}}
CALLER = "13700000001"
CUSTOMER = "13900000009"


# -- the desk, over HTTP (as tests/integration/callcontrol/test_call_control.py) -------------


async def act(b: Backend, user: str, operation: str, **body: Any) -> dict[str, Any]:
    r = await b.http.post(
        f"/api/agent/call/{operation}", json=body or None, headers=await b.as_user(user)
    )
    if r.status_code != 200:
        raise RuntimeError(f"{operation}: {r.status_code} {r.text}")
    result: dict[str, Any] = r.json()
    return result


async def state(b: Backend, user: str) -> dict[str, Any]:
    result: dict[str, Any] = await b.get("/api/agent/call", user)
    return result


async def until_state(b: Backend, user: str, ok: Callable[[dict[str, Any]], bool]) -> None:
    seen: dict[str, Any] = {}

    async def reached() -> bool:
        seen.clear()
        seen.update(await state(b, user))
        return ok(seen)

    await eventually(reached, 20, f"{user}'s call (last: {seen})")


async def on_call(b: Backend, ext: str, call: str) -> None:
    async def talking() -> bool:
        agent = await b.agent(ext)
        return bool(agent["state"] == "on_call" and agent["linkedid"] == call)

    await eventually(talking, 60, f"agent {ext} on call {call}")


async def answered_call(b: Backend, ast: AsteriskSide, *ready: str) -> str:
    for ext in ("1001", *ready):
        await b.post("/api/agent/sign-in", f"agent{ext}", {"ready": True})
    call = await ast.call(CALLER, "ww5")  # business: agent 1001
    await on_call(b, "1001", call)
    await asyncio.sleep(1.5)  # some talk time before the control
    return call


# -- scenarios -------------------------------------------------------------------------------


async def hold_resume(b: Backend, ast: AsteriskSide) -> None:
    call = await answered_call(b, ast)
    await act(b, "agent1001", "hold")
    await asyncio.sleep(2.5)
    await act(b, "agent1001", "resume")
    await asyncio.sleep(1.5)
    await ast.hang_up(call)


async def transfer_agent(b: Backend, ast: AsteriskSide) -> None:
    call = await answered_call(b, ast, "1002")
    await act(b, "agent1001", "transfer", target="agent:1002")
    await on_call(b, "1002", call)
    await asyncio.sleep(1.5)
    await ast.hang_up(call)


async def transfer_queue(b: Backend, ast: AsteriskSide) -> None:
    call = await answered_call(b, ast)
    routing = b.services.features.routing
    assert routing is not None
    await act(b, "agent1001", "transfer", target="queue:complaint")

    async def queued() -> bool:
        return any(c["call_id"] == call for c in routing.waiting_calls("complaint"))

    await eventually(queued, 20, "the caller waiting in complaint")
    await asyncio.sleep(1.0)
    await b.post("/api/agent/sign-in", "agent1002", {"ready": True})
    await on_call(b, "1002", call)
    await asyncio.sleep(1.5)
    await ast.hang_up(call)


async def _consulting(b: Backend, ast: AsteriskSide) -> str:
    call = await answered_call(b, ast, "1002")
    await act(b, "agent1001", "consult", target="1002")
    await until_state(b, "agent1001", lambda s: s.get("consulting") == "1002")
    await asyncio.sleep(1.5)  # the agents talk while the caller is on music
    return call


async def consult_complete(b: Backend, ast: AsteriskSide) -> None:
    call = await _consulting(b, ast)
    await act(b, "agent1001", "complete")
    await on_call(b, "1002", call)
    await until_state(b, "agent1001", lambda s: s.get("state") == "idle")
    await asyncio.sleep(1.5)
    await ast.hang_up(call)


async def consult_cancel(b: Backend, ast: AsteriskSide) -> None:
    call = await _consulting(b, ast)
    await act(b, "agent1001", "cancel")
    await until_state(b, "agent1001", lambda s: s.get("state") == "talking")
    await asyncio.sleep(1.5)
    await ast.hang_up(call)


async def conference(b: Backend, ast: AsteriskSide) -> None:
    call = await answered_call(b, ast, "1003")
    await act(b, "agent1001", "conference", target="1003")
    await until_state(
        b, "agent1001", lambda s: s.get("state") == "conference" and s.get("conference") == ["1003"]
    )
    await asyncio.sleep(1.5)
    await act(b, "agent1001", "leave")
    await until_state(b, "agent1003", lambda s: s.get("state") == "conference")
    await asyncio.sleep(1.5)
    await ast.hang_up(call)


async def click_to_dial(b: Backend, ast: AsteriskSide) -> None:
    await b.post("/api/agent/sign-in", "agent1001", {"ready": False})
    await act(b, "agent1001", "dial", number=CUSTOMER)
    await until_state(b, "agent1001", lambda s: s.get("state") == "talking")
    await asyncio.sleep(2.0)
    await act(b, "agent1001", "hangup")


SCENARIOS: dict[str, Callable[[Backend, AsteriskSide], Awaitable[None]]] = {
    "hold_resume": hold_resume,
    "transfer_agent": transfer_agent,
    "transfer_queue": transfer_queue,
    "consult_complete": consult_complete,
    "consult_cancel": consult_cancel,
    "conference": conference,
    "click_to_dial": click_to_dial,
}


async def record_one(instance: AsteriskInstance, name: str, workdir: Path) -> None:
    db_url = f"sqlite:///{workdir / f'{name}.db'}"
    async with (
        staffed_center(instance, db_url, None, AGENTS) as (settings, _services, b),
        asterisk_side(instance, settings) as ast,
    ):
        path = OUT / f"{name}.trace"
        with path.open("wb") as out:
            tap = TraceWriter(out)
            listener = AmiClient(
                host="127.0.0.1",
                port=instance.ami_port,
                username="hotline-trace",
                secret=instance.ami_secret,
                on_event=lambda f: None,
            )
            listener.tap = tap
            listener.start()
            await listener.wait_ready()
            try:
                await SCENARIOS[name](b, ast)

                async def idle() -> bool:
                    return not await ast.pbx.channels()

                await eventually(idle, 30, "every channel gone")
                await asyncio.sleep(1.0)
            finally:
                await listener.close()
        print(f"{name}: {tap.reads} reads -> {path.relative_to(REPO)}")


async def record(names: list[str]) -> None:
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; known: {list(SCENARIOS)}")
    settings = load_settings(REPO / "config.yaml", env={})
    instance = start_instance(
        "callcontrol-trace-recorder",
        settings=settings,
        ami_port=free_port(),
        sip_port=free_udp_port(),
        fastagi_port=free_port(),
        ami_secret=secrets.token_hex(12),
        agent_endpoint=TEST_AGENT_ENDPOINT,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix="hotline-cc-traces-") as tmp:
            for name in names:
                await record_one(instance, name, Path(tmp))
    finally:
        instance.stop()


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:] or list(SCENARIOS)))
