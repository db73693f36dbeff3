"""Plan changes from PostgreSQL LISTEN/NOTIFY, fanned out to this replica's subscriptions.

Use cases NOTIFY in their transaction (so a notice goes out only when the change commits,
to every replica listening on productdb); one connection per replica LISTENs and hands each
plan id to every open ``planUpdated`` subscription. Notices sent while the listening
connection is being re-established are missed: a subscriber sees the next change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from uuid import UUID

import asyncpg

from nudges_kit.logging import get_logger
from nudges_product.adapters.repository import PLAN_CHANGED_CHANNEL

log = get_logger(__name__)


class PlanChanges:
    """The ids of plans that changed, for as long as :meth:`run` listens."""

    def __init__(self, dsn: str, queue_size: int = 256) -> None:
        self._dsn = dsn
        self._queue_size = queue_size
        self._queues: set[asyncio.Queue[UUID]] = set()
        #: Set while the listening connection is up.
        self.listening = asyncio.Event()

    @property
    def subscriber_count(self) -> int:
        return len(self._queues)

    async def run(self, stop: asyncio.Event, max_backoff: float = 5.0) -> None:
        """Listen until ``stop`` is set, reconnecting with backoff when the connection drops."""
        backoff = 0.2
        while not stop.is_set():
            try:
                conn = await asyncpg.connect(self._dsn)
            except Exception as exc:
                log.warning("plan change listener retrying", error=str(exc), retry_in=backoff)
                await _wait(stop, backoff)
                backoff = min(backoff * 2, max_backoff)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(_setter(lost))
            try:
                await conn.add_listener(PLAN_CHANGED_CHANNEL, self._on_notice)
                self.listening.set()
                backoff = 0.2
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())]
                try:
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()
            except Exception as exc:
                log.warning("plan change listener lost its connection", error=str(exc))
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 2.0)

    def _on_notice(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            plan_id = UUID(payload)
        except ValueError:
            log.warning("ignoring a malformed plan change notice")
            return
        for queue in self._queues:
            try:
                queue.put_nowait(plan_id)
            except asyncio.QueueFull:
                log.warning("a planUpdated subscriber is too slow; dropping a change")

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[UUID]]:
        """A queue receiving the id of every plan that changes while the block runs."""
        queue: asyncio.Queue[UUID] = asyncio.Queue(self._queue_size)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _conn: event.set()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
