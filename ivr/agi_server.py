"""A small FastAGI route server: agi://host:port/<route>,<arg1>,... -> handler(session, arg1, ...).

The IVR's own server (ivr/fastagi.py) is where production routes live; this one runs the
survey routes on their own when the build has no IVR server (hotline/care.py), and in
tests. Sessions are ivr/agi.py's AgiConnection, the same as the IVR's:

    server = FastAgiServer({"followup": surveys.handle_followup}, "127.0.0.1", 4573)
    await server.start()

Contract with the dialplan (deploy/asterisk/extensions.conf [hotline-followup]):
AGI(${HOTLINE_AGI}/followup,${HOTLINE_TICKET_ID}) after Set(AGISIGHUP=no), so no
unsolicited HANGUP line ever shifts the replies; a channel gone shows as result=-1 or
a 511 reply, which raises AgiHangup.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from ivr.agi import AgiConnection, AgiHangup, AgiTimeout

log = logging.getLogger(__name__)
Handler = Callable[..., Awaitable[None]]


class FastAgiServer:
    """Routes agi://host:port/<route>,<arg1>,... to handler(session, arg1, ...)."""

    def __init__(self, routes: Mapping[str, Handler], host: str, port: int) -> None:
        self._routes = dict(routes)
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self._host, self._port)

    async def stop(self, grace: float = 10.0) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._sessions:  # let calls in progress finish writing their results
            _done, late = await asyncio.wait(list(self._sessions), timeout=grace)
            for task in late:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        session = AgiConnection(reader, writer, timeout=120.0)
        try:
            await session.read_env()
            route = session.env.get("agi_network_script", "").strip("/").split("?")[0]
            handler = self._routes.get(route)
            if handler is None:
                log.warning("FastAGI: no route %r", route)
                return
            await handler(session, *session.args)
        except (AgiHangup, AgiTimeout, TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            log.exception("FastAGI handler failed")
        finally:
            self._sessions.discard(task)
            await session.close()
