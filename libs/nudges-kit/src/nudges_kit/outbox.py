"""Transactional outbox: events written in the caller's transaction, published by a relay.

The relay holds a PostgreSQL advisory lock so that one relay per database publishes,
sends unpublished rows in id order, and marks a row published only after the broker
acknowledged it and every earlier row of the same key. The lock lives as long as the
session that took it: the relay reads and marks rows on that very session and watches it
for termination, so a relay whose session was dropped (a failover, an administrator's
``pg_terminate_backend``) stops publishing until it holds the lock again. While Kafka is
down it keeps retrying with backoff; nothing is lost when the relay or the broker
restarts, because rows stay in the table until acknowledged (delivery is at least once:
consumers deduplicate by event id).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_not_exception_type,
)

from nudges_kit.events import Envelope, EventType
from nudges_kit.kafka import (
    KafkaCredentialsRefused,
    TopicKeeper,
    all_topics,
    credentials_refusal,
    make_producer,
    start_client,
)
from nudges_kit.logging import get_logger
from nudges_kit.metrics import EVENTS_PUBLISHED, OUTBOX_PENDING, OUTBOX_PUBLISH_FAILURES
from nudges_kit.settings import NudgesSettings
from nudges_kit.telemetry import current_traceparent, kafka_headers

log = get_logger(__name__)
D = TypeVar("D", bound=BaseModel)

#: Advisory lock key of the relay leader (one per database).
RELAY_LOCK_KEY = 0x6E75646765  # "nudge"
#: Seconds before a relay that is not the leader tries to take the lock again.
NOT_LEADER_RECHECK = 1.0
#: Seconds of the relay's first wait after a failure; doubled after each next one.
RETRY_BACKOFF = 0.2
#: The channel a transaction that writes to the outbox notifies at its commit: the relay
#: listening on it publishes at once instead of at its next poll (one per database).
OUTBOX_CHANNEL = "nudges_outbox"


async def add_event(
    conn: asyncpg.Connection, event_type: EventType[D], key: str, data: D
) -> Envelope:
    """Write an event to the outbox on ``conn``, inside the caller's transaction."""
    envelope = event_type.envelope(key, data)
    await add_envelope(conn, event_type.topic, envelope)
    return envelope


async def add_envelope(conn: asyncpg.Connection, topic: str, envelope: Envelope) -> None:
    """Write an already built envelope to the outbox on ``conn``; the relay is notified when
    the transaction commits (a notification of a transaction rolled back is never sent, and
    those of one transaction are delivered as one)."""
    await conn.execute(
        "WITH added AS (INSERT INTO outbox (event_id, topic, key, event_type, payload, headers)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING RETURNING id)"
        " SELECT pg_notify($7, '') FROM added",
        envelope.id,
        topic,
        envelope.key,
        envelope.type,
        envelope.model_dump(mode="json"),
        current_traceparent(),
        OUTBOX_CHANNEL,
    )


def acknowledged_ids(rows: list[asyncpg.Record], results: list[Any]) -> list[int]:
    """Ids safe to mark published: per key, the rows before the first failure."""
    failed_keys: set[str] = set()
    ok: list[int] = []
    for row, result in zip(rows, results, strict=True):
        if isinstance(result, BaseException):
            failed_keys.add(row["key"])
        elif row["key"] not in failed_keys:
            ok.append(row["id"])
    return ok


class LockLost(Exception):
    """The session holding the relay lock is gone, and with it the lock."""


class OutboxRelay:
    """Publishes a database's outbox to Kafka until stopped: the leader listens on
    :data:`OUTBOX_CHANNEL` and publishes as soon as a transaction that wrote events commits,
    and polls every ``idle_interval`` seconds besides (rows written by other means, a
    notification lost with a connection).

    Measured with ``make bench-fanout``: polling every 0.2 s, the two relays between CONFIRM
    and the first message sent (UserApi's, then the consumers') waited 0.1 s each on average
    and ran 15 outbox queries a second on an idle platform; see bench/README.md."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: NudgesSettings,
        batch_size: int = 500,
        idle_interval: float = 1.0,
        max_backoff: float = 5.0,
        query_timeout: float = 10.0,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._batch_size = batch_size
        self._idle_interval = idle_interval
        self._max_backoff = max_backoff
        #: Failures since the last batch that went through (the retry wait doubles with each).
        self._failures = 0
        self._query_timeout = query_timeout
        self._producer: AIOKafkaProducer | None = None
        self._topics = TopicKeeper(settings)
        self._written = asyncio.Event()
        self.published = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set; survives broker and database outages, and publishes
        only while it holds the relay lock. Credentials the broker refuses end it with
        :class:`KafkaCredentialsRefused`: waiting does not fix a configuration error."""
        # Credentials the broker refuses are found at start-up, not with the first event.
        refusal = await credentials_refusal(self._settings)
        if refusal is not None:
            await self._topics.close()
            raise KafkaCredentialsRefused(refusal)
        while not stop.is_set():
            if not await self._lead_with_retries(stop):
                await _wait(stop, NOT_LEADER_RECHECK)
        await self._close_producer()
        await self._topics.close()

    async def _lead_with_retries(self, stop: asyncio.Event) -> bool:
        """:meth:`_lead` until it returns (False: another relay leads; True: ``stop`` is set),
        retrying whatever fails (Kafka or the database down, the lock lost) with backoff from
        ``RETRY_BACKOFF`` to ``max_backoff`` seconds, a wait that ``stop`` ends at once.
        Credentials the broker refuses are raised: waiting does not fix them."""
        async for attempt in AsyncRetrying(
            # Exception, not BaseException: a cancelled relay is not retried.
            retry=retry_if_exception_type(Exception)
            & retry_if_not_exception_type(KafkaCredentialsRefused),
            wait=self._next_wait,
            sleep=lambda seconds: _wait(stop, seconds),
            before_sleep=self._before_retry,
            reraise=True,
        ):
            with attempt:
                if stop.is_set():
                    return True
                try:
                    return await self._lead(stop)
                except KafkaCredentialsRefused:
                    await self._close_producer()
                    await self._topics.close()
                    raise
        raise AssertionError("unreachable: tenacity returns or raises")

    def _next_wait(self, _state: RetryCallState) -> float:
        """``RETRY_BACKOFF`` doubled per failure since the last batch that went through, up to
        ``max_backoff``: a fault hours after the previous one starts again at the shortest
        wait."""
        self._failures += 1
        return float(min(self._max_backoff, RETRY_BACKOFF * 2 ** (self._failures - 1)))

    async def _before_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = round(state.upcoming_sleep, 2)
        if isinstance(error, LockLost):
            log.warning(
                "outbox relay lost its lock; publishing stops until it holds it again",
                reason=str(error),
                retry_in=wait,
            )
            return
        OUTBOX_PUBLISH_FAILURES.inc()
        log.warning("outbox relay retrying", error=str(error), retry_in=wait)
        await self._close_producer()

    async def _lead(self, stop: asyncio.Event) -> bool:
        """Take the relay lock and publish on its session until ``stop``; False when another
        relay holds the lock."""
        async with self._pool.acquire() as lock_conn:
            lost = asyncio.Event()

            def on_terminated(_conn: object) -> None:
                lost.set()

            def on_written(*_args: object) -> None:
                self._written.set()

            lock_conn.add_termination_listener(on_terminated)
            try:
                if not await lock_conn.fetchval(
                    "SELECT pg_try_advisory_lock($1)", RELAY_LOCK_KEY, timeout=self._query_timeout
                ):
                    return False
                await lock_conn.add_listener(OUTBOX_CHANNEL, on_written)
                try:
                    await self._publish_while_leader(stop, lock_conn, lost)
                finally:
                    if not lost.is_set():
                        with contextlib.suppress(Exception):
                            await lock_conn.remove_listener(OUTBOX_CHANNEL, on_written)
                        with contextlib.suppress(Exception):
                            await lock_conn.execute("SELECT pg_advisory_unlock($1)", RELAY_LOCK_KEY)
            finally:
                with contextlib.suppress(Exception):
                    lock_conn.remove_termination_listener(on_terminated)
        return True

    async def _publish_while_leader(
        self, stop: asyncio.Event, lock_conn: asyncpg.Connection, lost: asyncio.Event
    ) -> None:
        while not stop.is_set():
            if lost.is_set() or _closed(lock_conn):
                raise LockLost("the session holding the relay lock was terminated")
            # Cleared before reading: a commit notified meanwhile is read by the next batch.
            self._written.clear()
            try:
                sent = await self.publish_batch(lock_conn)
            except Exception as exc:
                if lost.is_set() or _closed(lock_conn):
                    raise LockLost(f"the session holding the relay lock failed: {exc}") from exc
                raise
            self._failures = 0
            if sent == 0:
                await _wait_any(self._idle_interval, stop, lost, self._written)

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = make_producer(self._settings, request_timeout_ms=5_000)
            try:
                await start_client(producer, self._settings)
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
            # A broker that restarted with memory storage lost its topics: declare them again.
            await self._topics.ensure(all_topics(), fresh=True)
        return self._producer

    async def _close_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            with contextlib.suppress(Exception):
                await producer.stop()

    async def publish_batch(self, conn: asyncpg.Connection | None = None) -> int:
        """Publish one batch of unpublished rows; returns how many were acknowledged.

        Rows are read and marked on ``conn`` (the relay passes the session holding its lock,
        so that a batch fails rather than being published once that session is gone), or on
        connections of the pool."""
        async with _session(self._pool, conn) as db:
            rows = await db.fetch(
                "SELECT id, topic, key, payload, headers FROM outbox"
                " WHERE published_at IS NULL ORDER BY id LIMIT $1",
                self._batch_size,
                timeout=self._query_timeout,
            )
            OUTBOX_PENDING.set(len(rows))
        if not rows:
            return 0
        if conn is not None and _closed(conn):
            raise LockLost("the session that read the batch is gone")
        producer = await self._ensure_producer()
        topics = sorted({row["topic"] for row in rows})
        await self._topics.ensure(topics)
        futures: list[Any] = []
        for row in rows:
            try:
                futures.append(
                    await producer.send(
                        row["topic"],
                        value=orjson.dumps(row["payload"]),
                        key=row["key"].encode(),
                        headers=kafka_headers(row["headers"] or {}),
                    )
                )
            except Exception as exc:
                futures.append(_failed(exc))
        results = await asyncio.gather(*futures, return_exceptions=True)
        lost = await self._topics.ensure(topics, fresh=True)
        if lost:
            # The broker restarted during the send and lost these topics: what it took for
            # them is not to be trusted, so the batch stays unpublished and goes again.
            log.warning("topics were missing after a send; publishing the batch again", topics=lost)
            return 0
        ok = acknowledged_ids(rows, results)
        ok_set = set(ok)
        errors = [r for r in results if isinstance(r, BaseException)]
        async with _session(self._pool, conn) as db:
            if ok:
                await db.execute(
                    "UPDATE outbox SET published_at = now(), attempts = attempts + 1"
                    " WHERE id = ANY($1::bigint[])",
                    ok,
                    timeout=self._query_timeout,
                )
            failed = [row["id"] for row in rows if row["id"] not in ok_set]
            if failed:
                await db.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $2"
                    " WHERE id = ANY($1::bigint[])",
                    failed,
                    str(errors[0]) if errors else "held back behind a failed event of its key",
                    timeout=self._query_timeout,
                )
        for row in rows:
            if row["id"] in ok_set:
                EVENTS_PUBLISHED.labels(row["topic"]).inc()
        self.published += len(ok)
        if errors:
            raise RuntimeError(f"{len(errors)} of {len(rows)} outbox events failed: {errors[0]}")
        return len(ok)


async def _failed(exc: BaseException) -> Any:
    raise exc


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def _closed(conn: asyncpg.Connection) -> bool:
    """Whether ``conn`` is gone (a pool connection whose server session ended is also
    released by the pool)."""
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:
        return True


async def _wait_any(seconds: float, *events: asyncio.Event) -> None:
    """Sleep ``seconds``, waking early when any of ``events`` is set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


@contextlib.asynccontextmanager
async def _session(
    pool: asyncpg.Pool, conn: asyncpg.Connection | None
) -> AsyncIterator[asyncpg.Connection]:
    """``conn`` when given, else a connection of ``pool`` for the block."""
    if conn is not None:
        yield conn
    else:
        async with pool.acquire() as acquired:
            yield acquired
