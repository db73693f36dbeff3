"""Change notifications over PostgreSQL LISTEN/NOTIFY, for GraphQL subscriptions that must
work across replicas: a transaction calls ``notify`` (delivered on commit), and each process
keeps one :class:`ChangeListener` whose single connection LISTENs and fans every notice out
to the subscriptions open in that process.

The listening connection is its own, outside the request pool, so open subscriptions never
take connections that requests need. When the server drops it (a failover,
``pg_terminate_backend``) the listener reconnects with backoff and LISTENs again; notices
sent while it reconnects are missed, and subscribers see the next change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import asyncpg
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from nudges_kit.logging import get_logger

log = get_logger(__name__)

#: How the listening session shows in ``pg_stat_activity``.
APPLICATION_NAME = "nudges-change-listener"
#: Seconds before reconnecting after the connection was lost, and before the second attempt
#: to connect (each next attempt waits twice as long, up to ``max_backoff``).
RECONNECT_BACKOFF = 0.2


async def notify(conn: asyncpg.Connection[Any], channel: str, payload: str) -> None:
    """Announce ``payload`` on ``channel`` when the caller's transaction commits."""
    await conn.execute("SELECT pg_notify($1, $2)", channel, payload)


class ChangeListener:
    """One LISTEN connection per process for ``channels``, shared by every subscriber.

    The connection opens with the first subscriber (or :meth:`run`) and closes when the last
    one leaves; each subscriber gets its own bounded queue of payloads. A subscriber too slow
    to keep up loses its oldest payloads, never the newest (payloads name what changed, so
    the latest one is the one that matters)."""

    def __init__(
        self,
        dsn: str,
        channels: Iterable[str],
        *,
        queue_size: int = 256,
        max_backoff: float = 5.0,
        ready_timeout: float = 5.0,
        keepalive_interval: float = 30.0,
    ) -> None:
        self._dsn = dsn
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = {c: set() for c in channels}
        self._queue_size = queue_size
        self._max_backoff = max_backoff
        self._ready_timeout = ready_timeout
        self._keepalive_interval = keepalive_interval
        self._holds = 0
        self._runner: asyncio.Task[None] | None = None
        self._demand_changed = asyncio.Event()
        #: Set while the connection is up and LISTENing on every channel.
        self.listening = asyncio.Event()
        #: How many times the connection was opened (the first time included).
        self.connections_opened = 0

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self._subscribers)

    @property
    def subscriber_count(self) -> int:
        return sum(len(queues) for queues in self._subscribers.values())

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[str]]:
        """A queue receiving every payload announced on ``channel`` while the block runs.

        Entering waits (up to ``ready_timeout``) for the connection to LISTEN, so that a
        change committed after the block starts reaches the queue."""
        if channel not in self._subscribers:
            raise ValueError(f"this listener does not listen on {channel!r}")
        queue: asyncio.Queue[str] = asyncio.Queue(self._queue_size)
        self._subscribers[channel].add(queue)
        try:
            self._ensure_running()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.listening.wait(), self._ready_timeout)
            yield queue
        finally:
            self._subscribers[channel].discard(queue)
            self._demand_changed.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the connection open, subscribers or not, until ``stop`` is set; then close
        it."""
        self._holds += 1
        try:
            self._ensure_running()
            await stop.wait()
        finally:
            self._holds -= 1
            await self.aclose()

    async def aclose(self) -> None:
        """Close the connection now (a later subscriber opens it again)."""
        runner = self._runner
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner

    def _wanted(self) -> bool:
        return self._holds > 0 or self.subscriber_count > 0

    def _ensure_running(self) -> None:
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(self._listen_while_wanted())

    async def _listen_while_wanted(self) -> None:
        try:
            while self._wanted():
                conn = await self._connect()
                if conn is None:
                    return
                lost = await self._listen(conn)
                if lost and self._wanted():
                    log.warning("change listener reconnecting", retry_in=RECONNECT_BACKOFF)
                    await self._sleep_while_wanted(RECONNECT_BACKOFF)
        finally:
            # No suspension between the last ``_wanted()`` and this: a subscriber arriving
            # later starts a new runner.
            self._runner = None

    async def _connect(self) -> asyncpg.Connection[Any] | None:
        """A connection LISTENing on every channel, retried with backoff (from
        ``RECONNECT_BACKOFF`` to ``max_backoff`` seconds) until one opens; None as soon as
        nobody wants it any more (a wait ends at once then)."""
        async for attempt in AsyncRetrying(
            # Exception, not BaseException: a listener closed while it connects is not retried.
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential(multiplier=RECONNECT_BACKOFF, max=self._max_backoff),
            sleep=self._sleep_while_wanted,
            before_sleep=_log_connect_failure,
            reraise=True,
        ):
            with attempt:
                if not self._wanted():
                    return None
                return await self._open()
        raise AssertionError("unreachable: tenacity returns or raises")

    async def _open(self) -> asyncpg.Connection[Any]:
        conn = await asyncpg.connect(
            self._dsn, timeout=10, server_settings={"application_name": APPLICATION_NAME}
        )
        try:
            for channel in self._subscribers:
                await conn.add_listener(channel, self._on_notice)
        except BaseException:
            await _close(conn)
            raise
        return conn

    async def _listen(self, conn: asyncpg.Connection[Any]) -> bool:
        """Fan out the notices of ``conn`` while it is wanted, then close it; whether the
        connection was lost rather than no longer wanted."""
        lost = asyncio.Event()
        conn.add_termination_listener(_setter(lost))
        if conn.is_closed():  # dropped while it was being opened
            lost.set()
        try:
            self.connections_opened += 1
            self.listening.set()
            await self._hold(conn, lost)
        except Exception as exc:
            log.warning("change listener lost its connection", error=str(exc))
            lost.set()
        finally:
            self.listening.clear()
            await _close(conn)
        return lost.is_set()

    async def _hold(self, conn: asyncpg.Connection[Any], lost: asyncio.Event) -> None:
        """Return when the connection is lost or no longer wanted; probe it when idle, since
        a connection cut without a reset would otherwise look alive forever."""
        while self._wanted() and not lost.is_set():
            self._demand_changed.clear()
            woken = await _first_of(self._keepalive_interval, lost, self._demand_changed)
            if not woken:
                await conn.fetchval("SELECT 1", timeout=5)

    async def _sleep_while_wanted(self, seconds: float) -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        while self._wanted():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            self._demand_changed.clear()
            await _first_of(left, self._demand_changed)

    def _on_notice(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        for queue in self._subscribers.get(channel, ()):
            if queue.full():
                log.warning("a subscriber is too slow; dropping its oldest change", channel=channel)
                queue.get_nowait()
            queue.put_nowait(payload)


def _log_connect_failure(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "change listener cannot connect", error=str(error), retry_in=round(state.upcoming_sleep, 2)
    )


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _conn: event.set()


async def _first_of(seconds: float, *events: asyncio.Event) -> bool:
    """Wait until one of ``events`` is set or ``seconds`` pass; whether one was set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        done, _ = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return bool(done)


async def _close(conn: asyncpg.Connection[Any]) -> None:
    try:
        await asyncio.wait_for(conn.close(), 2.0)
    except asyncio.CancelledError:
        conn.terminate()
        raise
    except Exception:
        conn.terminate()
