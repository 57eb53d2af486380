"""Hotline's FastAGI server: the IVR (route `ivr`), the survey calls (`followup`,
`survey`) and answered campaign calls (`campaign`, campaigns/agi.py) for Asterisk.

    server = IvrFastAgiServer(services)     # wired by hotline/wiring.py
    await server.start()                    # listens on pbx.fastagi.host:port

Dialplan contract (deploy/asterisk/extensions.conf [hotline-ivr]):
    Set(AGISIGHUP=no)
    AGI(agi://<host>:<port>/ivr,<dialled number>)
Then the IVR sets HOTLINE_ACTION (queue | hangup), HOTLINE_SKILL, HOTLINE_PRIORITY,
HOTLINE_CUSTOMER_ID, HOTLINE_TIER, HOTLINE_LANGUAGE and raises UserEvent HotlineIvrResult
(Outcome, Skill, CallPriority, CustomerId, Tier, CallLanguage, Path, Facts) -- and, for
a callback, UserEvent HotlineCallbackRequest as [hotline-fallback] does, which the router
turns into a callback that keeps the caller's place (routing/intake.py).

Routing of connections uses panoramisk's FastAGI Application (its route table and
add_route checks) and nothing else: its connection handler spins forever when a socket
closes before the AGI environment ends, raises on an environment that is not UTF-8, and
swallows task cancellation (so shutdown would hang); its Request.send_command has no
timeout, raises on EOF and reads `200 result= (timeout)` as a plain empty result. So
each connection is an ivr/agi.AgiStream (a plain protocol: the hot path of the IVR)
served by `accept`, and commands go through ivr/agi.AgiConnection (quoting,
per-command timeouts, typed errors, no command after a hangup). The same session
object serves the survey routes (ivr.agi.AgiSession: env + command()).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from panoramisk.fast_agi import Application

from hotline.services import Services
from ivr.agi import AgiCommandError, AgiConnection, AgiHangup, AgiStream, AgiTimeout
from ivr.agi_channel import AgiChannel, RenderedFiles
from ivr.customer_reader import CustomerReader
from ivr.directory import ReaderDirectory
from ivr.driver import CallContext, CallerHungUp, Directory, drive
from ivr.handover import hand_over
from ivr.interpreter import Interpreter
from ivr.prompt_cache import PromptRenderer
from ivr.script import IvrResult

log = logging.getLogger("hotline.ivr.fastagi")
Route = Callable[[AgiConnection], Awaitable[None]]
DEFAULT_SOUNDS = "/var/lib/asterisk/sounds/hotline"


class _Routes(Application):  # type: ignore[misc]
    """panoramisk's route table; connections are served by IvrFastAgiServer.accept."""

    def __init__(self) -> None:
        super().__init__(loop=asyncio.get_running_loop())


class IvrFastAgiServer:
    def __init__(self, services: Services, *, command_timeout: float = 10.0) -> None:
        self.services = services
        s = services.settings
        self._host, self._port = s.pbx.fastagi.host, s.pbx.fastagi.port
        # Several processes on the port: `hotline serve` twice, or IVR workers.
        self._shared_port = s.pbx.fastagi.shared_port or s.pbx.fastagi.workers > 1
        self.command_timeout = command_timeout  # Asterisk's reply, beyond the media time
        self.interpreter = Interpreter(s)
        self._reader = CustomerReader(services)  # lookups by phone < 1 ms (bench)
        self.directory: Directory = ReaderDirectory(services, self._reader)
        self.renderer = PromptRenderer(s.ivr.sounds_dir)
        self.rendered = RenderedFiles()
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[Any]] = set()
        self.results: list[IvrResult] = []  # the last few, for tests and the demo log
        services.features.ivr = self

    async def reload(self) -> None:
        """After a configuration reload (hotline/runtime.py): the menu, the prompts and
        the business hours from services.settings. Callers already in the menu finish
        with the menu they started in; the listening socket is kept."""
        s = self.services.settings
        self.interpreter = Interpreter(s)
        self.directory = ReaderDirectory(self.services, self._reader)
        self.renderer = PromptRenderer(s.ivr.sounds_dir)

    async def start(self) -> None:
        app = _Routes()
        app.add_route("ivr", self.ivr)
        app.add_route("followup", self._survey("handle_followup"))
        app.add_route("survey", self._survey("handle_post_call"))
        app.add_route(self.services.settings.campaigns.agi_route, self._campaign)
        self._app = app
        # Each connection is an AgiStream (ivr/agi.py: lines cut from the received bytes,
        # no StreamReader/StreamWriter), served by accept() in a task of its own.
        self._server = await asyncio.get_running_loop().create_server(
            lambda: AgiStream(self.accept),
            self._host,
            self._port,
            reuse_port=self._shared_port or None,
        )
        log.info("IVR FastAGI on %s:%s", self._host, self._port)

    async def stop_accepting(self) -> None:
        """Close the listening socket; calls in progress go on. With several processes
        on the port (ivr/workers.py), the others take the new calls."""
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            await server.wait_closed()

    async def stop(self, grace: float = 5.0) -> None:
        await self.stop_accepting()
        if self._sessions:  # callers in the menu: let them finish their step
            _done, late = await asyncio.wait(list(self._sessions), timeout=grace)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._reader.close()

    async def accept(self, stream: AgiStream) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        agi = AgiConnection(stream, stream, timeout=self.command_timeout)
        try:
            await agi.read_env()
            script = agi.env.get("agi_network_script", "").strip("/").split("?")[0]
            route = self._app._route.get(script)
            if route is None:
                log.warning("FastAGI: no route %r", script)
                return
            await route(agi)
        except (AgiHangup, CallerHungUp, ConnectionError, asyncio.IncompleteReadError):
            pass  # the caller left: nothing more to say to Asterisk
        except (AgiTimeout, TimeoutError):
            log.warning("FastAGI %s: Asterisk stopped answering", agi.env.get("agi_channel"))
        except AgiCommandError as exc:  # the dialplan's failed path takes the caller
            log.warning("FastAGI %s: %s", agi.env.get("agi_channel"), exc)
        except Exception:
            log.exception("FastAGI handler failed")
        except asyncio.CancelledError:
            # Stopped with a caller still in the menu. Not re-raised: on Python 3.11
            # asyncio's stream callback calls task.exception() on a cancelled handler
            # task and logs a traceback; the dialplan sends the caller on regardless.
            log.info("FastAGI session of %s cut by shutdown", agi.env.get("agi_channel"))
        finally:
            self._sessions.discard(task)
            await agi.close()

    # -- routes ---------------------------------------------------------------------

    async def ivr(self, agi: AgiConnection) -> None:
        args = agi.args
        # One round trip for both: the Linkedid (what tickets and the call record key on;
        # agi_uniqueid is only this channel) and where Asterisk sees Hotline's sounds.
        found = await agi.evaluate("${CHANNEL(linkedid)}|${HOTLINE_SOUNDS_DIR}")
        linkedid, _, sounds = found.partition("|")
        linkedid = linkedid or agi.env.get("agi_uniqueid", "")
        call = CallContext(
            call_id=linkedid,
            caller_number=agi.env.get("agi_callerid", ""),
            dialed_number=args[0] if args else agi.env.get("agi_dnid", ""),
        )
        sounds = sounds or DEFAULT_SOUNDS
        channel = AgiChannel(
            agi,
            sounds_dir=self.services.settings.ivr.sounds_dir,
            asterisk_sounds_dir=sounds,
            renderer=self.renderer,
            found=self.rendered,
        )
        # "+86 139..." too: the interpreter keeps the digits, lookups normalize them.
        flow = self.interpreter.run(call.caller_number)
        try:
            result = await drive(
                flow,
                channel,
                self.directory,
                call,
                lookup_timeout=self.services.settings.ivr.lookup_timeout_seconds,
            )
        except AgiHangup as exc:
            raise CallerHungUp(call.call_id) from exc
        await hand_over(agi, result, self.services.settings.pbx.dialplan.holding_queue_prefix)
        self.results.append(result)
        if len(self.results) > 50:
            del self.results[0]

    async def _campaign(self, agi: AgiConnection) -> None:
        # An answered campaign call (campaigns/agi.py), given by the composition root.
        handler: Any = self.services.features.campaign_agi
        if handler is None:
            log.error("FastAGI campaign: no campaign handler in this process; the call ends")
            return
        await handler.handle(agi, *agi.args)

    def _survey(self, method: str) -> Route:
        async def route(agi: AgiConnection) -> None:
            # Given by the composition root (hotline/wiring.py ivr_fastagi).
            surveys: Any = self.services.features.surveys
            if surveys is None:
                log.error("FastAGI %s: no survey handler in this process; the call goes on", method)
                return
            await getattr(surveys, method)(agi, *agi.args)

        return route
