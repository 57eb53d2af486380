"""Operations (issue 13): a configuration change takes effect on reload without dropping a
call or a desktop.

The real Runtime (role all) runs from a config file of the test's own. With a caller
waiting in a holding queue and an agent's desktop open, the file is changed (today
becomes a holiday: the IVR's business hours close; the router's offer timeout changes)
and the runtime reloads as on SIGHUP:

- the waiting caller is still in Asterisk's queue and in the new router's line, and an
  agent who goes ready afterwards gets it;
- the desktop's websocket is the same one, still open;
- the next caller hears the closed-hours menu; the router runs on the new settings;
- a broken file changes nothing (the reload is refused, the running config stays).
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from devtools.services.asterisk import AsteriskInstance
from devtools.services.net import free_port
from hotline.runtime import Runtime
from kernel.config import load_settings
from tests.harness.cti import REPO
from tests.harness.http_app import desk
from tests.integration.hotline.support import Backend, add_staff, asterisk_side
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
AGENTS = {"1001": {"business": 8}, "1002": {"complaint": 8}}


def write_config(path: Path, *, holidays: list[str], offer_timeout: int) -> None:
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config["business_hours"] = {
        "weekly": {d: [{"start": "00:00", "end": "23:59:59"}] for d in DAYS},
        "holidays": holidays,
        "extra_working_days": [],
    }
    config["routing"]["offer_timeout_seconds"] = offer_timeout
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


async def test_given_a_waiting_caller_and_an_open_desk_when_the_config_reloads_then_both_stay(
    asterisk: AsteriskInstance, db_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    write_config(config, holidays=[], offer_timeout=15)
    env = {
        **asterisk.settings_env(),
        "HOTLINE_DATABASE__URL": db_url,
        "HOTLINE_HTTP__PORT": str(free_port()),
        "HOTLINE_AUTH__SECRET_KEY": secrets.token_hex(32),
    }
    settings = load_settings(config, env=env)
    runtime = Runtime(settings, config_source=lambda: load_settings(config, env=env))
    services = await runtime.start()
    try:
        await add_staff(services, AGENTS)
        assert services.features.routing is not None
        await services.features.routing.reload_agents()  # staff added after the start
        base = f"http://{settings.http.host}:{settings.http.port}"
        async with (
            asterisk_side(asterisk, settings) as ast,
            httpx.AsyncClient(base_url=base, timeout=10) as http,
        ):
            b = Backend(runtime, http)
            await b.post("/api/agent/sign-in", "agent1001", {"ready": True})
            await b.post("/api/agent/sign-in", "agent1002", {"ready": False})
            caller = await ast.call("13700000001", "ww6")  # complaint: 1002 is not ready

            async def waiting() -> bool:
                line = (await b.board())["calls"]
                return caller in {w["call_id"] for w in line}

            await eventually(waiting, 60, "the complaint caller waiting in line")
            old_router = services.features.routing
            await b.as_user("agent1001")
            async with desk(base, token=b.tokens["agent1001"]) as screen:
                today = dt.datetime.now(ZoneInfo(settings.center.timezone)).date()
                write_config(config, holidays=[today.isoformat()], offer_timeout=20)
                assert await runtime.reload_from_source()

                new_router = services.features.routing
                assert new_router is not None
                assert new_router is not old_router
                assert new_router.ctx.settings.routing.offer_timeout_seconds == 20
                assert services.settings.business_hours.holidays == [today]
                # The caller stayed in Asterisk's queue and is back in the router's line.
                held = {lid for q in (await ast.holding()).values() for lid, _ in q}
                assert caller in held
                await eventually(waiting, 20, "the caller in the new router's line")
                # The desktop's socket is the one opened before the reload.
                await screen.ws.ping()
                # An agent going ready now gets the caller, through the new router.
                await b.post("/api/agent/ready", "agent1002")

                async def answered() -> bool:
                    agent = await b.agent("1002")
                    return bool(agent["state"] == "on_call" and agent["linkedid"] == caller)

                await eventually(answered, 30, "agent 1002 on the waiting caller")
                await screen.ws.ping()

            # The next caller hears the closed-hours menu (today is a holiday now).
            ivr = services.features.ivr
            assert ivr is not None
            before = len(ivr.results)
            await ast.call("13700000002", "ww5")
            await eventually(lambda: len(ivr.results) > before, 60, "the next caller's IVR")
            assert "closed" in ivr.results[-1].path

            # A broken file: refused, the running configuration stays.
            config.write_text("business_hours: [this is not valid\n", encoding="utf-8")
            assert not await runtime.reload_from_source()
            assert services.settings.routing.offer_timeout_seconds == 20
            assert runtime.reloads == 1
    finally:
        await runtime.stop()
