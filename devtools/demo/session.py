"""One demo run: sandbox Asterisk -> seeded database -> backend -> simulated traffic."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import signal
from pathlib import Path
from typing import Any

from devtools.services.net import free_port, port_open
from hotline.runtime import Runtime
from kernel.config import Settings, load_settings

ALL_DAY = (
    "{"
    + ", ".join(
        f'{d}: [{{start: "00:00", end: "23:59:59"}}]'
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    )
    + "}"
)

log = logging.getLogger("devtools.demo")


class DemoSession:
    def __init__(self, base: Settings, args: argparse.Namespace) -> None:
        self.base = base
        self.args = args
        self.var: Path = args.var
        self.extras: list[Any] = []

    def _secret(self, name: str, size: int = 16) -> str:
        # Kept across demo runs so a browser tab's session or a softphone keeps working.
        path = self.var / name
        if not path.exists():
            path.write_text(secrets.token_hex(size), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()

    def _start_pbx(self) -> Any:
        from devtools.services.asterisk import (
            TEST_AGENT_ENDPOINT,
            ensure_root,
            free_udp_port,
            start_instance,
        )

        ensure_root(progress=lambda msg: print(f"sandbox: {msg}", flush=True))
        return start_instance(
            getattr(self.args, "sandbox_name", "demo"),
            settings=self.base,
            ami_port=free_port(),
            sip_port=free_udp_port(),
            fastagi_port=free_port(),
            ami_secret=self._secret("ami-secret"),
            sip_password="hotline",
            agent_endpoint=TEST_AGENT_ENDPOINT,
        )

    def _settings(self, pbx: Any) -> Settings:
        http_port = self.args.http_port or self.base.http.port
        if port_open(self.base.http.host, http_port):
            http_port = free_port()  # 8080 is taken: don't fail the demo for it
        env = {
            **os.environ,
            **pbx.settings_env(),
            "HOTLINE_DATABASE__URL": f"sqlite:///{(self.var / 'hotline.db').resolve()}",
            "HOTLINE_HTTP__PORT": str(http_port),
            # The demo's campaign calls whenever the demo runs (a real center keeps
            # config.yaml's daytime windows and skips holidays).
            "HOTLINE_CAMPAIGNS__WINDOWS": ALL_DAY,
            "HOTLINE_CAMPAIGNS__CALL_ON_HOLIDAYS": "true",
        }
        if "auth" in Settings.model_fields:
            env["HOTLINE_AUTH__SECRET_KEY"] = self._secret("auth-secret")
        # Recordings and attachments sealed at rest (kernel/at_rest.py): the key comes from
        # the process environment, kept across demo runs so earlier recordings still play.
        if not os.environ.get("HOTLINE_AT_REST_KEY"):
            os.environ["HOTLINE_AT_REST_KEY"] = self._secret("at-rest-key", 32)
        return load_settings(self.args.config, env=env)

    def _seed(self, settings: Settings) -> None:
        seed_demo(settings, self.args.customers)

    async def run(self) -> int:
        self.var.mkdir(parents=True, exist_ok=True)
        pbx = await asyncio.to_thread(self._start_pbx)
        runtime: Runtime | None = None
        try:
            settings = self._settings(pbx)
            await asyncio.to_thread(self._seed, settings)
            await self._render_prompts(settings)
            runtime = Runtime(settings)
            services = await runtime.start()
            await self._start_simulation(services, settings)
            self._banner(settings, pbx)
            await self._wait()
            return 0
        finally:
            for extra in reversed(self.extras):
                with contextlib.suppress(Exception):
                    await extra.stop()
            if runtime is not None:
                await runtime.stop()
            await asyncio.to_thread(pbx.stop)

    async def _render_prompts(self, settings: Settings) -> None:
        await render_demo_prompts(settings)

    async def _start_simulation(self, services: Any, settings: Settings) -> None:
        bridge = services.features.bridge
        if bridge is not None:
            await bridge.client.wait_ready(15)
        from devtools.demo.agents import AgentSimulator

        agents = AgentSimulator(services)
        if services.pbx is not None:
            # How the simulated phones behave: ring a moment, talk 20-60 s, hang up.
            for name, value in agents.phone_behaviour().items():
                await services.pbx.set_var("", name, value)
        await agents.start()
        self.extras.append(agents)
        if not getattr(self.args, "no_campaign", False):
            from devtools.demo.campaigns import CampaignSimulator

            campaign = CampaignSimulator(services)
            await campaign.start()
            self.extras.append(campaign)
        if self.args.call_every > 0:
            from devtools.demo.callers import CallerSimulator

            every = self.args.call_every
            callers = CallerSimulator(
                services,
                hotline=settings.center.hotline_numbers[0],
                interval=(every * 0.5, every * 1.5),
            )
            await callers.start()
            self.extras.append(callers)

    def _banner(self, settings: Settings, pbx: Any) -> None:
        base = f"http://{settings.http.host}:{settings.http.port}"
        print(
            "\n".join(
                [
                    "",
                    "Hotline demo is running.",
                    f"  Agent desktop : {base}/desk/        (agent01 .. agent12 / hotline-demo)",
                    f"  Wallboard     : {base}/wallboard",
                    f"  Supervisor    : {base}/supervisor   (supervisor / hotline-demo)",
                    f"  Work orders   : {base}/tickets/     (repair01, office01, network01,"
                    " install01: each department's clerk; supervisor sees all)",
                    f"  Reports       : {base}/reports/     (supervisor: charts, CSV/PNG/SVG,"
                    " staffing forecast)",
                    f"  Quality (QA)  : {base}/qa/          (qa: draw samples, play, score;"
                    " agents see their own scores)",
                    f"  Campaigns     : {base}/campaigns/   (supervisor: an outage notice to one"
                    " district's simulated customers is running; do-not-call list)",
                    f"  Administration: {base}/admin/       (admin: users, knowledge, notices,"
                    " calendar, audit log)",
                    f"  API docs      : {base}/docs",
                    f"  Operations    : {base}/readyz  {base}/metrics (Prometheus)",
                    f"  Asterisk 22   : AMI 127.0.0.1:{pbx.ami_port}, SIP 127.0.0.1:{pbx.sip_port}"
                    " (desk phones 1001-1020 / hotline),"
                    f" hotline {settings.center.hotline_numbers[0]}",
                    "  Simulated callers dial the hotline every few seconds and speak once",
                    "  connected; agent02.. answer on simulated phones.",
                    "  Take calls yourself: sign in as agent01, tick 浏览器话机 (browser phone),",
                    "  sign in to the phone and go ready: the next caller rings in the page",
                    "  (hold, transfer, consult, conference, keypad in the call panel). Or",
                    "  sign in as agent10 in a second browser tab and call the hotline from",
                    "  its browser phone.",
                    "  Ctrl-C to stop.",
                    "",
                ]
            ),
            flush=True,
        )

    async def _wait(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        if self.args.duration > 0:
            loop.call_later(self.args.duration, stop.set)
        await stop.wait()


def seed_demo(settings: Settings, customers: int) -> None:
    """The demo's data (customers, agent01..agent12, a supervisor; password
    hotline-demo) in a migrated database, once: a database with customers is left as it
    is."""
    import sqlalchemy as sa

    from db.engine import make_sync_engine
    from db.migrate import upgrade
    from db.models import metadata
    from devtools.seed.writer import seed_database

    upgrade(settings.database.url)
    engine = make_sync_engine(settings.database.url)
    try:
        with engine.connect() as conn:
            have = conn.scalar(sa.select(sa.func.count()).select_from(metadata.tables["customers"]))
        if have:
            return
        seed_database(
            engine,
            customers=customers,
            agents=12,
            seed=1,
            skills=[s.name for s in settings.skills],
            departments=[d.name for d in settings.tickets.departments],
            now=dt.datetime.now(dt.UTC),
        )
    finally:
        engine.dispose()


async def render_demo_prompts(settings: Settings) -> None:
    """The IVR speaks from the first demo on: missing prompts (and Asterisk's Chinese
    number words) are rendered with espeak-ng, once; later runs find them."""
    from devtools.services.asterisk_root import sandbox_sounds
    from ivr.prompt_render import TtsTools
    from ivr.prompts import default_asterisk_sounds, prompt_files, render_files, say_files

    tools = TtsTools.find()
    if not tools.available:
        print("demo: espeak-ng/sox missing: the IVR beeps instead of speaking", flush=True)
        return
    files = prompt_files(settings)
    sounds = default_asterisk_sounds() or sandbox_sounds()
    if sounds is not None:
        files += say_files(sounds)
    todo = [f for f in files if not f.exists]
    if todo:
        print(f"demo: rendering {len(todo)} voice prompts with espeak-ng ...", flush=True)
        failures = await render_files(todo, tools)
        if failures:
            print(f"demo: {len(failures)} prompts could not be rendered", flush=True)
