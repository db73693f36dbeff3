"""Transactional outbox: events written in the caller's transaction, published by a relay.

The relay holds a PostgreSQL advisory lock so that one relay per database publishes,
sends unpublished rows in id order, and marks a row published only after the broker
acknowledged it and every earlier row of the same key. While Kafka is down it keeps
retrying with backoff; nothing is lost when the relay or the broker restarts, because
rows stay in the table until acknowledged (delivery is at least once: consumers
deduplicate by event id).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeVar

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from nudges_kit.events import Envelope, EventType
from nudges_kit.kafka import all_topics, ensure_topics, make_producer
from nudges_kit.logging import get_logger
from nudges_kit.metrics import EVENTS_PUBLISHED, OUTBOX_PENDING, OUTBOX_PUBLISH_FAILURES
from nudges_kit.settings import NudgesSettings
from nudges_kit.telemetry import current_traceparent, kafka_headers

log = get_logger(__name__)
D = TypeVar("D", bound=BaseModel)

#: Advisory lock key of the relay leader (one per database).
RELAY_LOCK_KEY = 0x6E75646765  # "nudge"


async def add_event(
    conn: asyncpg.Connection, event_type: EventType[D], key: str, data: D
) -> Envelope:
    """Write an event to the outbox on ``conn``, inside the caller's transaction."""
    envelope = event_type.envelope(key, data)
    await add_envelope(conn, event_type.topic, envelope)
    return envelope


async def add_envelope(conn: asyncpg.Connection, topic: str, envelope: Envelope) -> None:
    """Write an already built envelope to the outbox on ``conn``."""
    await conn.execute(
        "INSERT INTO outbox (event_id, topic, key, event_type, payload, headers)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
        envelope.id,
        topic,
        envelope.key,
        envelope.type,
        envelope.model_dump(mode="json"),
        current_traceparent(),
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


class OutboxRelay:
    """Publishes a database's outbox to Kafka until stopped."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: NudgesSettings,
        batch_size: int = 500,
        idle_interval: float = 0.2,
        max_backoff: float = 5.0,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._batch_size = batch_size
        self._idle_interval = idle_interval
        self._max_backoff = max_backoff
        self._producer: AIOKafkaProducer | None = None
        self._topics_ready: set[str] = set()
        self.published = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set; survives broker and database outages."""
        backoff = 0.2
        while not stop.is_set():
            try:
                async with self._pool.acquire() as lock_conn:
                    if not await lock_conn.fetchval(
                        "SELECT pg_try_advisory_lock($1)", RELAY_LOCK_KEY
                    ):
                        await _wait(stop, 1.0)
                        continue
                    try:
                        await self._publish_while_leader(stop)
                    finally:
                        with contextlib.suppress(Exception):
                            await lock_conn.execute("SELECT pg_advisory_unlock($1)", RELAY_LOCK_KEY)
                backoff = 0.2
            except Exception as exc:
                OUTBOX_PUBLISH_FAILURES.inc()
                log.warning("outbox relay retrying", error=str(exc), retry_in=backoff)
                await self._close_producer()
                await _wait(stop, backoff)
                backoff = min(backoff * 2, self._max_backoff)
        await self._close_producer()

    async def _publish_while_leader(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            sent = await self.publish_batch()
            if sent == 0:
                await _wait(stop, self._idle_interval)

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = make_producer(self._settings, request_timeout_ms=5_000)
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
            # A broker that restarted with memory storage lost its topics: declare them again.
            self._topics_ready = set()
            await self._ensure_topics(all_topics())
        return self._producer

    async def _ensure_topics(self, topics: list[str]) -> None:
        missing = [t for t in topics if t not in self._topics_ready]
        if missing:
            await ensure_topics(
                self._settings.kafka_bootstrap_servers,
                missing,
                self._settings.kafka_topic_partitions,
            )
            self._topics_ready.update(missing)

    async def _close_producer(self) -> None:
        self._topics_ready = set()
        if self._producer is not None:
            producer, self._producer = self._producer, None
            with contextlib.suppress(Exception):
                await producer.stop()

    async def publish_batch(self) -> int:
        """Publish one batch of unpublished rows; returns how many were acknowledged."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT id, topic, key, payload, headers FROM outbox"
                " WHERE published_at IS NULL ORDER BY id LIMIT $1",
                self._batch_size,
            )
            OUTBOX_PENDING.set(len(rows))
        if not rows:
            return 0
        producer = await self._ensure_producer()
        await self._ensure_topics(sorted({row["topic"] for row in rows}))
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
        ok = acknowledged_ids(rows, results)
        ok_set = set(ok)
        errors = [r for r in results if isinstance(r, BaseException)]
        async with self._pool.acquire() as conn:
            if ok:
                await conn.execute(
                    "UPDATE outbox SET published_at = now(), attempts = attempts + 1"
                    " WHERE id = ANY($1::bigint[])",
                    ok,
                )
            failed = [row["id"] for row in rows if row["id"] not in ok_set]
            if failed:
                await conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $2"
                    " WHERE id = ANY($1::bigint[])",
                    failed,
                    str(errors[0]) if errors else "held back behind a failed event of its key",
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
