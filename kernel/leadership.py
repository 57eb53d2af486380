"""Exactly one leader among backend processes: the lease that the cluster-wide duties
(the AMI bridge, the router, the call log, recordings, the ticket duties, the retention
purge: hotline/cluster.py) run under.

Several backend processes may run the `pbx` role (for failover); if each opened its own
AMI session or ran its own router, every call would be logged and routed twice. So the
duties run only in the process holding a lock in Redis:

- key   the lock's name (hotline:leader:<center>); value this process's node id, set
  with SET NX PX <ttl>;
- on winning, the holder takes a fencing token: INCR <key>:token, so every term has a
  number higher than any before it. Work with lasting effects checks its token where the
  effect is written (kernel/fencing.py: a database row only a newer term may move), so
  a holder that was paused past its lease (a stopped VM, a long GC) and wakes up cannot
  act on an old term;
- the holder renews the lock every `renew_every` seconds (compare-and-PEXPIRE in one
  Lua call); a renewal that finds another value (the lock expired and was taken) stops
  the duties;
- if Redis cannot be reached, the holder stops its duties once `step_down_after` of the
  TTL has passed since its last renewal, i.e. before any other process can take the lock
  (so two leaders never overlap, provided stopping takes less than the rest of the TTL);
- stop() releases the lock (compare-and-DEL), so a clean shutdown fails over at once; a
  crashed holder is replaced after the TTL.
With the in-process bus (no Redis URL) there is one process: it is always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from kernel.bus.factory import is_shared
from kernel.lifecycle import cancel_and_wait, stop_within

log = logging.getLogger("hotline.leader")

STOP_SECONDS = 5.0  # each step of stop()

Hook = Callable[[], Awaitable[None]]

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class LeaderElection:
    def __init__(
        self,
        url: str,
        key: str,
        *,
        start: Hook,
        stop: Hook,
        ttl: float = 10.0,
        renew_every: float = 2.0,
        step_down_after: float = 0.7,
        node: str | None = None,
    ) -> None:
        if renew_every >= ttl * step_down_after:
            raise ValueError("renew_every must be well below the TTL")
        self.key = key
        self.node = node or uuid.uuid4().hex
        self._client: Any = aioredis.Redis.from_url(
            url, socket_timeout=renew_every, socket_connect_timeout=renew_every
        )
        self._start, self._stop = start, stop
        self._ttl_ms = int(ttl * 1000)
        self._renew_every = renew_every
        self._deadline = ttl * step_down_after
        self._task: asyncio.Task[None] | None = None
        self.is_leader = False
        self.terms = 0  # how many times this process became leader
        self.token = 0  # the fencing token of the current (or last) term
        self.fenced = True  # kernel/fencing.py compares tokens
        self.since: float | None = None  # time.time() the current term began

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"leader-{self.key}")

    async def stop(self) -> None:
        # Bounded: the leader's own stop (the AMI bridge) and a Redis that does not
        # answer cannot hold the process open; the lock then lapses by its TTL.
        if self._task is not None:
            await cancel_and_wait([self._task], what=f"leader election {self.key}")
            self._task = None
        if self.is_leader:
            await stop_within(
                self._step_down("shutting down"), STOP_SECONDS, f"{self.key} leader stop"
            )
            with contextlib.suppress(RedisError, OSError):
                await stop_within(
                    self._client.eval(_RELEASE, 1, self.key, self.node),
                    STOP_SECONDS,
                    f"{self.key} lock release",
                )
        await stop_within(self._client.aclose(), STOP_SECONDS, f"{self.key} Redis client")

    async def _run(self) -> None:
        last_renewal = 0.0
        while True:
            if not self.is_leader:
                if await self._try(self._client.set(self.key, self.node, nx=True, px=self._ttl_ms)):
                    last_renewal = time.monotonic()
                    await self._become_leader()
                    continue
                await asyncio.sleep(self._renew_every)
                continue
            await asyncio.sleep(self._renew_every)
            renewed = await self._try(
                self._client.eval(_RENEW, 1, self.key, self.node, self._ttl_ms)
            )
            if renewed is None:  # Redis unreachable: the lock may lapse without us knowing
                if time.monotonic() - last_renewal >= self._deadline:
                    await self._step_down("Redis unreachable, the lock may have expired")
            elif renewed:
                last_renewal = time.monotonic()
            else:
                await self._step_down("the lock was lost to another process")

    async def _try(self, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except (RedisError, OSError) as exc:
            log.warning("leader election on %s: Redis error %s", self.key, exc)
            return None

    async def _become_leader(self) -> None:
        token = await self._try(self._client.incr(f"{self.key}:token"))
        if token is None:  # no token, no term: give the lock back and try again later
            await self._try(self._client.eval(_RELEASE, 1, self.key, self.node))
            await asyncio.sleep(self._renew_every)
            return
        self.token = int(token)
        self.is_leader = True
        self.since = time.time()
        self.terms += 1
        log.info("%s: this process (%s) is the leader", self.key, self.node[:8])
        try:
            await self._start()
        except Exception:
            log.exception("%s: starting as leader failed; giving the lock back", self.key)
            self.is_leader = False
            await self._try(self._client.eval(_RELEASE, 1, self.key, self.node))
            await asyncio.sleep(self._renew_every)

    async def _step_down(self, why: str) -> None:
        log.warning("%s: stepping down (%s)", self.key, why)
        self.is_leader = False
        try:
            await self._stop()
        except Exception:
            log.exception("%s: stopping after losing the lead failed", self.key)


class AlwaysLeader:
    """One process, in-process bus: nobody to compete with."""

    def __init__(self, start: Hook, stop: Hook) -> None:
        self._start, self._stop = start, stop
        self.is_leader = False
        self.node = "local"
        self.fenced = False  # one process: no other term to fence off
        self.terms = 0
        self.token = 0
        self.since: float | None = None

    async def start(self) -> None:
        self.token += 1
        self.terms += 1
        self.since = time.time()
        self.is_leader = True  # as in LeaderElection: the start hook runs as the leader
        try:
            await self._start()
        except BaseException:
            self.is_leader = False
            raise

    async def stop(self) -> None:
        if self.is_leader:
            self.is_leader = False
            await self._stop()


Leadership = LeaderElection | AlwaysLeader


def elect(
    redis_url: str | None,
    key: str,
    *,
    start: Hook,
    stop: Hook,
    ttl: float = 10.0,
    renew_every: float = 2.0,
) -> Leadership:
    """Run start() while this process leads `key`, stop() when it no longer does; with no
    Redis (one process, the in-process bus) it always leads."""
    if not is_shared(redis_url):
        return AlwaysLeader(start, stop)
    return LeaderElection(redis_url, key, start=start, stop=stop, ttl=ttl, renew_every=renew_every)
