"""The Kafka consumer loop every worker runs.

For each record: parse and validate the envelope (a malformed record goes straight to
the dead-letter topic), skip it when this group already handled its event id, else run
the handler inside a database transaction that also records the event id, retrying with
backoff; after the last attempt the record goes to ``<topic>.dlq`` with its error. Offsets
are committed only after the records before them were handled or dead-lettered.

A handler that finds a service it needs unreachable raises :class:`DependencyUnavailable`:
such failures are retried for as long as ``unavailable_patience`` allows without spending
attempts, so a restart or a deploy of a subgraph parks nothing on the dead-letter topic.
Stopping the consumer interrupts a backoff at once; the records not yet handled stay
uncommitted and are delivered again (and skipped where already handled).

A commit that cannot reach the broker is given up after ``commit_timeout`` rather than
retried for ever: the records are delivered again and skipped as already handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from opentelemetry import context as otel_context
from pydantic import BaseModel
from tenacity import AsyncRetrying, RetryCallState, RetryError, wait_exponential_jitter

from nudges_kit.dlq import DeadLetter, send_dead_letter
from nudges_kit.events import REGISTRY, Envelope, EventRegistry, EventType
from nudges_kit.kafka import KafkaCredentialsRefused, make_consumer, make_producer, start_client
from nudges_kit.logging import get_logger
from nudges_kit.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENT_HANDLING_SECONDS, EVENTS_HANDLED
from nudges_kit.settings import NudgesSettings
from nudges_kit.telemetry import context_from_kafka, tracer

log = get_logger(__name__)
_tracer = tracer(__name__)


@dataclass(frozen=True)
class HandlerContext:
    """What a handler gets besides the event: the open transaction and the record."""

    conn: asyncpg.Connection
    record: ConsumerRecord[bytes, bytes]
    attempt: int


Handler = Callable[[Envelope, Any, HandlerContext], Awaitable[None]]


class PermanentError(Exception):
    """A failure that retrying cannot fix: the event goes to the dead-letter topic at once."""


class DependencyUnavailable(Exception):
    """A service the handler needs could not be reached (refused connection, 502/503/504,
    timeout): retried until it answers, within the consumer's ``unavailable_patience``,
    without spending attempts."""


class _Stopping(Exception):
    """The consumer was asked to stop during a backoff."""


class EventConsumer:
    """Consumes the topics of ``handlers`` as consumer group ``group``."""

    def __init__(
        self,
        *,
        group: str,
        settings: NudgesSettings,
        pool: asyncpg.Pool,
        handlers: Mapping[EventType[Any], Handler],
        registry: EventRegistry = REGISTRY,
        max_attempts: int = 5,
        backoff_initial: float = 0.2,
        backoff_max: float = 10.0,
        max_records: int = 100,
        unavailable_patience: float = 900.0,
        commit_timeout: float = 10.0,
    ) -> None:
        self.group = group
        self._settings = settings
        self._pool = pool
        self._handlers: dict[str, Handler] = {et.name: h for et, h in handlers.items()}
        self._topics = sorted({et.topic for et in handlers})
        self._registry = registry
        self._max_attempts = max_attempts
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._max_records = max_records
        self._unavailable_patience = unavailable_patience
        self._commit_timeout = commit_timeout
        self._stop: asyncio.Event | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self.assigned = asyncio.Event()

    @property
    def topics(self) -> list[str]:
        """The topics this consumer reads."""
        return list(self._topics)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then commit what was handled and leave the group."""
        self._consumer = make_consumer(
            self._settings,
            *self._topics,
            group_id=self.group,
            client_id=f"{self._settings.service_name}-{self.group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        self._producer = make_producer(self._settings)
        self._stop = stop
        try:
            await self._start_with_retry(stop)
        except BaseException:
            await self._stop_clients()
            raise
        log.info("consumer started", group=self.group, topics=self._topics)
        try:
            while not stop.is_set():
                batch = await self._consumer.getmany(timeout_ms=500, max_records=self._max_records)
                if self._consumer.assignment():
                    self.assigned.set()
                if not await self._process_batch(batch):
                    break
                await self._record_lag()
        finally:
            await self._stop_clients()
            log.info("consumer stopped", group=self.group)

    async def _stop_clients(self) -> None:
        for client in (self._consumer, self._producer):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.stop()

    async def _process_batch(
        self, batch: Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> bool:
        """Handle and commit ``batch``; False when the consumer was stopped during it (what
        was handled is committed, the rest is left for the next delivery)."""
        for tp, records in batch.items():
            next_offset: int | None = None
            try:
                for record in records:
                    await self._process(record)
                    next_offset = record.offset + 1
            except _Stopping:
                if next_offset is not None:
                    await self._commit({tp: next_offset})
                return False
            if next_offset is not None:
                await self._commit({tp: next_offset})
        return True

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit ``offsets``, giving up after ``commit_timeout`` (the broker is gone, the
        partition was revoked or its topic no longer exists): handled-event ids make the
        redelivery that follows harmless."""
        assert self._consumer is not None
        try:
            await asyncio.wait_for(self._consumer.commit(offsets), self._commit_timeout)
        except (KafkaError, TimeoutError) as exc:
            log.warning(
                "offset commit given up; the records will be delivered again",
                group=self.group,
                offsets={f"{tp.topic}/{tp.partition}": o for tp, o in offsets.items()},
                error=repr(exc),
            )

    async def _sleep(self, seconds: float) -> None:
        """A backoff that ends early, with :class:`_Stopping`, when the consumer stops."""
        if self._stop is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        if self._stop.is_set():
            raise _Stopping

    async def _start_with_retry(self, stop: asyncio.Event) -> None:
        """Start the clients, waiting for a broker that is not reachable yet; credentials the
        broker refuses raise :class:`KafkaCredentialsRefused` at once."""
        assert self._consumer is not None
        assert self._producer is not None
        delay = 0.5
        while True:
            try:
                await start_client(self._producer, self._settings)
                await start_client(self._consumer, self._settings)
                return
            except KafkaCredentialsRefused:
                raise  # a configuration error: waiting does not fix it
            except Exception as exc:
                if stop.is_set():
                    raise
                log.warning("kafka not reachable, retrying", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _record_lag(self) -> None:
        assert self._consumer is not None
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            if highwater is None:
                continue
            position = await self._consumer.position(tp)
            CONSUMER_LAG.labels(self.group, tp.topic, str(tp.partition)).set(
                max(0, highwater - position)
            )

    async def lag(self) -> dict[TopicPartition, int]:
        """Messages not yet consumed, per assigned partition."""
        assert self._consumer is not None
        out: dict[TopicPartition, int] = {}
        for tp in self._consumer.assignment():
            end = (await self._consumer.end_offsets([tp]))[tp]
            out[tp] = max(0, end - await self._consumer.position(tp))
        return out

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        topic = record.topic
        try:
            envelope = Envelope.from_bytes(record.value or b"")
            data: BaseModel = self._registry.validate(envelope)
        except Exception as exc:
            log.warning("malformed event sent to dead-letter topic", topic=topic, error=str(exc))
            await self._dead_letter(record, exc, attempts=0)
            return
        handler = self._handlers.get(envelope.type)
        if handler is None:
            EVENTS_HANDLED.labels(self.group, topic, "ignored").inc()
            return
        token = otel_context.attach(context_from_kafka(record.headers))
        started = time.perf_counter()
        try:
            with _tracer.start_as_current_span(
                f"consume {envelope.type}",
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination": topic,
                    "messaging.consumer.group": self.group,
                    "nudges.event_id": str(envelope.id),
                },
            ):
                outcome = await self._handle_with_retries(record, envelope, data, handler)
        finally:
            otel_context.detach(token)
            EVENT_HANDLING_SECONDS.labels(self.group, topic).observe(time.perf_counter() - started)
        EVENTS_HANDLED.labels(self.group, topic, outcome).inc()

    async def _handle_with_retries(
        self,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope,
        data: BaseModel,
        handler: Handler,
    ) -> str:
        attempt = 0
        spent = 0

        def give_up(state: RetryCallState) -> bool:
            """Stop after ``max_attempts`` failures, not counting the ones of an unavailable
            dependency while ``unavailable_patience`` lasts."""
            nonlocal spent
            error = state.outcome.exception() if state.outcome else None
            waited = state.seconds_since_start or 0.0
            if isinstance(error, DependencyUnavailable) and waited < self._unavailable_patience:
                if state.attempt_number in _LOGGED_UNAVAILABLE_ATTEMPTS:
                    log.warning(
                        "a dependency is unavailable, waiting for it",
                        group=self.group,
                        event_type=envelope.type,
                        error=str(error),
                        waited=round(waited, 1),
                    )
                return False
            spent += 1
            return spent >= self._max_attempts

        try:
            async for attempt_state in AsyncRetrying(
                stop=give_up,
                wait=wait_exponential_jitter(
                    multiplier=self._backoff_initial,
                    max=self._backoff_max,
                    jitter=self._backoff_initial,
                ),
                retry=_retryable,
                sleep=self._sleep,
            ):
                with attempt_state:
                    attempt = attempt_state.retry_state.attempt_number
                    return await self._handle_once(record, envelope, data, handler, attempt)
        except RetryError as exc:
            error = exc.last_attempt.exception() or exc
            await self._dead_letter(record, error, attempt, envelope)
            return "dead_lettered"
        except PermanentError as exc:
            await self._dead_letter(record, exc, attempt, envelope)
            return "dead_lettered"
        raise AssertionError("unreachable")

    async def _handle_once(
        self,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope,
        data: BaseModel,
        handler: Handler,
        attempt: int,
    ) -> str:
        async with self._pool.acquire() as conn, conn.transaction():
            first_time = await conn.fetchval(
                "INSERT INTO handled_events (consumer_group, event_id, event_type)"
                " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true",
                self.group,
                envelope.id,
                envelope.type,
            )
            if not first_time:
                return "duplicate"
            await handler(envelope, data, HandlerContext(conn=conn, record=record, attempt=attempt))
        return "handled"

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        error: BaseException,
        attempts: int,
        envelope: Envelope | None = None,
    ) -> None:
        assert self._producer is not None
        letter = DeadLetter.from_record(
            record,
            self.group,
            error,
            attempts,
            event_id=str(envelope.id) if envelope else None,
            event_type=envelope.type if envelope else None,
        )
        await send_dead_letter(self._producer, letter)
        DEAD_LETTERS.labels(self.group, record.topic).inc()
        log.error(
            "event dead-lettered",
            group=self.group,
            topic=record.topic,
            event_type=letter.event_type,
            event_id=letter.event_id,
            error=letter.error,
            attempts=attempts,
        )


#: Attempts at which waiting for an unavailable dependency is logged (not every one).
_LOGGED_UNAVAILABLE_ATTEMPTS = frozenset({1, 5, 10, 20, 50, 100, 200, 500})


def _retryable(state: Any) -> bool:
    outcome = state.outcome
    if outcome is None or not outcome.failed:
        return False
    # A cancelled consumer stops at once: cancellation is never a failure to retry.
    return not isinstance(outcome.exception(), PermanentError | asyncio.CancelledError)


async def run_consumers(consumers: list[EventConsumer], stop: asyncio.Event) -> None:
    """Run several consumers until ``stop`` is set."""
    await asyncio.gather(*(c.run(stop) for c in consumers))
