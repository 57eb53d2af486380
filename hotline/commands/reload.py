"""`hotline reload`: every backend process of this center reads its configuration again
(IVR menu, prompts, queues and routing steps, business hours, labels) without dropping a
call or a desktop (hotline/reload.py).

The file is checked here first: an invalid configuration is reported and nothing is
sent. With Redis the request goes to every process over the bus; with the in-process
bus there is one process, and `kill -HUP <its pid>` does the same.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from hotline.commands import settings_or_report
from kernel.bus import is_shared, make_bus


def add_arguments(parser: argparse.ArgumentParser) -> None:
    return None


def run(args: argparse.Namespace) -> int:
    settings = settings_or_report(args)
    if settings is None:
        return 1
    if not is_shared(settings.redis.url):
        print(
            "redis.url is not set: one process, no bus to tell. Send it SIGHUP instead:"
            " kill -HUP <pid of hotline serve>",
            file=sys.stderr,
        )
        return 2
    asyncio.run(_publish(settings.redis.url))
    print("hotline: asked every process to reload its configuration (see their logs)")
    return 0


async def _publish(url: str) -> None:
    from hotline.reload import reload_message
    from kernel import topics

    bus = make_bus(url)
    try:
        await bus.publish(topics.CONTROL, reload_message(time.time()))
    finally:
        await bus.close()
