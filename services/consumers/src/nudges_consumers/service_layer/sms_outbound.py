"""Sending SMS through Twilio: each ``sms.outbound`` event and each recipient of an
announcement batch (``sms.announcement-batch``), once.

Nobody gets two copies and nobody is skipped, whatever crashes when:

1. before anything is sent, an intent row is committed in ``sms_sends`` under the send's
   idempotency key (announcement and subscriber for an announcement), and a session advisory
   lock on the key keeps any other worker off it (a killed worker's locks go with its
   connection);
2. each attempt is committed (``attempts``) before Twilio is called, and Twilio's sid is
   committed (``sent``) as soon as it answers; a work item's intents, locks and first
   attempts take one statement each, and the sids that arrive while a statement runs are
   committed together by the next one;
3. a redelivered work item skips what is ``sent`` or ``failed``, and a send still ``pending``
   after an attempt is *in doubt* (the worker died between Twilio's answer and the commit):
   it is looked for in Twilio's message list (same number, same text, since the first
   attempt) before it is sent again.

429 and 5xx are retried with backoff (a 5xx or a timeout may have been accepted: looked for
first), then the consumer loop retries the work item; a number Twilio refuses (21211, 21610,
...) is recorded as failed and not retried. Sends wait for the process's sending rate, and
at most :data:`SEND_CONCURRENCY` are in flight in the process.

``sms_sends`` is the ledger of *sending once* (intent, attempts, Twilio's sid): the crash
safety above, nothing more. What became of an announcement's copies belongs to UserApi: once
a work item's sends are settled, the sender publishes their outcomes through its outbox as one
``sms.announcement.outcomes`` event (queued with the message sid and segments, failed with
Twilio's error code, or held back), in the ledger transaction that marks them published
(``delivery_recorded``), so that they are published once; UserApi records the deliveries and
decides the announcement's completion.

Carrier rules: a number that texted STOP receives nothing more, even an announcement confirmed
before. Right before a work item's first attempt, UserApi says which of its recipients are
still subscribed (``announcementRecipients`` with ``subscriberIds``); the others' copies are
held back for good (in the ledger as failed with :data:`HELD_BACK`) and reported as held
back, which counts towards the announcement's completion like a final status.

Quiet hours (SPEC §5): a copy not attempted yet whose recipient is between 21:00 and 08:00
(:mod:`nudges_consumers.domain.sending_window`, the clock being ``deps.now``) is *held*: the
ledger row stays pending with ``held_until`` (the window's opening) and the copy itself (number
in ciphertext, text, callback), committed before the work item is done, and ``held`` is
published once (``hold_recorded``). :class:`HeldCopies` sends the copies whose time has come,
through the same :class:`SmsSending` (the process's rate, the same locks and in-doubt
reconciliation), so a held copy goes once however often the release or the work item runs,
and a crash between the two leaves it pending, to be found by the next round. A client who
turned quiet hours off (``quiet_hours`` of the work item) has none.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from nudges_consumers.adapters.twilio_sender import (
    SendRefused,
    SendUnavailable,
    SentMessage,
    TwilioSender,
)
from nudges_consumers.bootstrap import Deps
from nudges_consumers.domain.sending_window import held_until
from nudges_kit.consumer import EventConsumer, HandlerContext, PermanentError
from nudges_kit.db import create_pool
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import fanout, sms
from nudges_kit.logging import get_logger
from nudges_kit.operations import user as user_ops
from nudges_kit.outbox import add_event

log = get_logger(__name__)

GROUP = "sms-outbound"
#: Sends in flight at once in a process, whichever work items they belong to (the process's
#: rate still applies): one work item may use them all while the other workers wait for
#: theirs, so that the last work items of a fan-out go as fast as the first.
SEND_CONCURRENCY = 64
#: Attempts of one send within a handler call before the consumer loop's retry takes over.
ATTEMPTS_PER_CALL = 3
#: Seconds before the second attempt of a send; doubled before each next one.
RETRY_BACKOFF = 0.4
#: How far before the first attempt an in-doubt send is looked for (clock skew).
RECONCILE_MARGIN = timedelta(minutes=2)
#: How long a commit of Twilio's answers waits for the answers of the sends in flight to join
#: it (a busy work item then writes a statement per round of answers, not one per message).
SID_COMMIT_DELAY = 0.02
#: The ledger's error code of a copy held back because its recipient texted STOP.
HELD_BACK = "stopped"
#: Held copies sent per round of the release (each round within the process's rate).
RELEASE_BATCH = 500


@dataclass(frozen=True)
class Send:
    """One SMS to send once under ``key``; an announcement's carries its recipient."""

    key: str
    to_ciphertext: str
    body: str
    status_callback: str | None
    announcement_id: UUID | None = None
    subscriber_id: UUID | None = None
    client_id: UUID | None = None
    #: The copy waits for its recipient's daytime (an announcement's, unless the client
    #: turned quiet hours off).
    quiet_hours: bool = False


def announcement_send_key(announcement_id: UUID, subscriber_id: UUID) -> str:
    """The idempotency key of one recipient's copy of an announcement."""
    return f"announcement:{announcement_id}:{subscriber_id}"


# --- the ledger (consumersdb.sms_sends) ----------------------------------------------------


@dataclass(frozen=True)
class Intent:
    """What ``sms_sends`` says of one send."""

    key: str
    state: str
    attempts: int
    first_attempt_at: datetime | None
    message_sid: str | None
    error_code: str | None
    #: Twilio's segments of the message sent.
    segments: int | None
    #: The outcome was published (``sms.announcement.outcomes``).
    delivery_recorded: bool
    #: Held for quiet hours until then (None: never held).
    held_until: datetime | None = None
    #: ``held`` was published.
    hold_recorded: bool = False

    def held_at(self, now: datetime) -> bool:
        """Whether the copy is held (not to be sent) at ``now``."""
        return self.state == "pending" and self.held_until is not None and self.held_until > now

    @classmethod
    def of(cls, row: asyncpg.Record) -> Intent:
        return cls(
            key=row["idempotency_key"],
            state=row["state"],
            attempts=row["attempts"],
            first_attempt_at=row["first_attempt_at"],
            message_sid=row["message_sid"],
            error_code=row["error_code"],
            segments=row["segments"],
            delivery_recorded=row["delivery_recorded"],
            held_until=row["held_until"],
            hold_recorded=row["hold_recorded"],
        )


class SendLedger:
    """The ledger of sending once (``sms_sends``: each send's intent, attempts and Twilio's
    sid, so that a crash never sends a copy twice nor skips one); not a record of deliveries,
    which UserApi keeps. Its statements run on a connection of their own, outside the handler's
    transaction: every statement commits at once, so what was attempted survives a crash.
    A connection runs one statement at a time, hence the lock."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        #: Twilio's answers not committed yet, and the intents committed for their waiters.
        self._answered: dict[str, SentMessage] = {}
        self._committed: dict[str, Intent] = {}

    async def _fetchrow(self, query: str, *args: Any) -> asyncpg.Record:
        async with self._lock:
            row = await self._conn.fetchrow(query, *args)
        assert row is not None
        return row

    async def claim(self, sends: Sequence[Send]) -> dict[str, Intent]:
        """Record the intents not yet recorded and lock every key this worker can have: the
        intents of the keys locked (a key missing from the answer is another worker's now)."""
        keys = [s.key for s in sends]
        async with self._lock:
            await self._conn.execute(
                "INSERT INTO sms_sends (idempotency_key, announcement_id, subscriber_id)"
                " SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[])"
                " ON CONFLICT (idempotency_key) DO NOTHING",
                keys,
                [s.announcement_id for s in sends],
                [s.subscriber_id for s in sends],
            )
            locked = await self._conn.fetch(
                "SELECT k FROM unnest($1::text[]) AS k"
                " WHERE pg_try_advisory_lock(hashtextextended(k, 0))",
                keys,
            )
            # Read after locking (a statement of its own): what the last holder committed.
            rows = await self._conn.fetch(
                "SELECT * FROM sms_sends WHERE idempotency_key = ANY($1::text[])",
                [r["k"] for r in locked],
            )
        return {row["idempotency_key"]: Intent.of(row) for row in rows}

    async def attempt(self, key: str) -> Intent:
        """Count an attempt, committed before Twilio is called."""
        return Intent.of(
            await self._fetchrow(
                "UPDATE sms_sends SET attempts = attempts + 1,"
                " first_attempt_at = coalesce(first_attempt_at, now()), updated_at = now()"
                " WHERE idempotency_key = $1 RETURNING *",
                key,
            )
        )

    async def attempt_first(self, keys: Sequence[str]) -> dict[str, Intent]:
        """Count the first attempt of sends never attempted, in one statement committed
        before any of them is sent."""
        async with self._lock:
            rows = await self._conn.fetch(
                "UPDATE sms_sends SET attempts = attempts + 1,"
                " first_attempt_at = coalesce(first_attempt_at, now()), updated_at = now()"
                " WHERE idempotency_key = ANY($1::text[]) RETURNING *",
                list(keys),
            )
        return {row["idempotency_key"]: Intent.of(row) for row in rows}

    async def sent(self, key: str, message: SentMessage) -> Intent:
        """Commit Twilio's answer for ``key``, together with the answers that arrive within
        :data:`SID_COMMIT_DELAY` or while the previous statement runs (a group commit)."""
        self._answered[key] = message
        async with self._lock:
            if key not in self._committed:
                await asyncio.sleep(SID_COMMIT_DELAY)
                answered, self._answered = self._answered, {}
                try:
                    async with self._conn.transaction():
                        # Visible at once but flushed to disk with the next durable commit:
                        # a sid lost with the database server leaves its send in doubt, and
                        # in-doubt sends are looked for at Twilio before any resend. (The
                        # attempts, committed before Twilio is called, stay durable.)
                        await self._conn.execute("SET LOCAL synchronous_commit = off")
                        rows = await self._conn.fetch(
                            "UPDATE sms_sends SET state = 'sent', message_sid = a.sid,"
                            " segments = a.segments, updated_at = now()"
                            " FROM unnest($1::text[], $2::text[], $3::int[])"
                            " AS a(key, sid, segments)"
                            " WHERE idempotency_key = a.key RETURNING sms_sends.*",
                            list(answered),
                            [m.sid for m in answered.values()],
                            [m.segments for m in answered.values()],
                        )
                except BaseException:
                    # Whoever waits for one of these next commits it again (or fails too).
                    self._answered = answered | self._answered
                    raise
                self._committed.update((row["idempotency_key"], Intent.of(row)) for row in rows)
        return self._committed.pop(key)

    async def hold(self, holds: Sequence[tuple[Send, datetime]]) -> dict[str, Intent]:
        """Hold each send until its time, with the copy to send then, in one statement; only
        a send never attempted nor held is held (the intents of those held)."""
        async with self._lock:
            rows = await self._conn.fetch(
                "UPDATE sms_sends SET held_until = h.until, client_id = h.client_id,"
                " to_ciphertext = h.to_ct, body = h.body, status_callback = h.callback,"
                " updated_at = now()"
                " FROM unnest($1::text[], $2::timestamptz[], $3::uuid[], $4::text[],"
                " $5::text[], $6::text[]) AS h(key, until, client_id, to_ct, body, callback)"
                " WHERE idempotency_key = h.key AND state = 'pending' AND attempts = 0"
                " AND held_until IS NULL RETURNING sms_sends.*",
                [s.key for s, _ in holds],
                [until for _, until in holds],
                [s.client_id for s, _ in holds],
                [s.to_ciphertext for s, _ in holds],
                [s.body for s, _ in holds],
                [s.status_callback for s, _ in holds],
            )
        return {row["idempotency_key"]: Intent.of(row) for row in rows}

    async def failed(self, key: str, error_code: str) -> Intent:
        return Intent.of(
            await self._fetchrow(
                "UPDATE sms_sends SET state = 'failed', error_code = $2, updated_at = now()"
                " WHERE idempotency_key = $1 RETURNING *",
                key,
                error_code,
            )
        )

    async def publish_outcomes(
        self, data: sms.AnnouncementOutcomesData, keys: Sequence[str], held: Sequence[str] = ()
    ) -> None:
        """Write the outcomes event to the outbox and mark ``keys`` published (``held``: their
        hold published), in one transaction: published once, whatever crashes when."""
        async with self._lock, self._conn.transaction():
            await add_event(self._conn, sms.announcement_outcomes, str(data.announcement_id), data)
            await self._conn.execute(
                "UPDATE sms_sends SET delivery_recorded = true"
                " WHERE idempotency_key = ANY($1::text[])",
                list(keys),
            )
            if held:
                await self._conn.execute(
                    "UPDATE sms_sends SET hold_recorded = true"
                    " WHERE idempotency_key = ANY($1::text[])",
                    list(held),
                )

    async def due(self, now: datetime, limit: int) -> list[Send]:
        """Held copies whose time has come by ``now`` and not sent yet, the earliest first."""
        async with self._lock:
            rows = await self._conn.fetch(
                "SELECT * FROM sms_sends WHERE state = 'pending' AND held_until IS NOT NULL"
                " AND held_until <= $1 ORDER BY held_until, idempotency_key LIMIT $2",
                now,
                limit,
            )
        return [
            Send(
                key=row["idempotency_key"],
                to_ciphertext=row["to_ciphertext"],
                body=row["body"],
                status_callback=row["status_callback"],
                announcement_id=row["announcement_id"],
                subscriber_id=row["subscriber_id"],
                client_id=row["client_id"],
            )
            for row in rows
        ]

    async def release(self) -> None:
        """Unlock every key this worker locked."""
        async with self._lock:
            await self._conn.execute("SELECT pg_advisory_unlock_all()")


# --- sending ---------------------------------------------------------------------------------


class HeldByAnotherWorker(Exception):
    """Some sends of the work item are being sent by another worker: retry it later."""


class SmsSending:
    """Sends each :class:`Send` once (see the module's documentation).

    The ledger's statements must commit at once, outside the handler's transaction, on a
    connection of their own: they use a pool of their own, one connection per sending
    consumer, so that a handler holding its transaction never waits for a second connection
    of the service's pool (which every consumer shares).
    """

    def __init__(
        self,
        deps: Deps,
        sender: TwilioSender,
        concurrency: int = SEND_CONCURRENCY,
        ledger_connections: int = 1,
    ) -> None:
        self._deps = deps
        self._sender = sender
        self._in_flight = asyncio.Semaphore(concurrency)
        self._ledger_connections = ledger_connections
        self._ledger_pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _open_ledger_pool(self) -> asyncpg.Pool:
        async with self._opening:
            if self._ledger_pool is None:
                self._ledger_pool = await create_pool(
                    self._deps.settings.database_url(), max_size=self._ledger_connections
                )
        return self._ledger_pool

    async def close(self) -> None:
        """Close the ledger's pool and the Twilio client."""
        if self._ledger_pool is not None:
            pool, self._ledger_pool = self._ledger_pool, None
            await pool.close()
        await self._sender.close()

    async def send_all(self, sends: Sequence[Send]) -> None:
        """Send each of ``sends`` unless it was already; raises when any must be retried."""
        if not sends:
            return
        now = self._deps.now()
        async with (await self._open_ledger_pool()).acquire() as conn:
            ledger = SendLedger(conn)
            try:
                intents = await ledger.claim(sends)
                await self._hold_back_stopped(ledger, sends, intents, now)
                await self._hold_for_quiet_hours(ledger, sends, intents, now)
                fresh = [
                    key
                    for key, intent in intents.items()
                    if intent.state == "pending"
                    and intent.attempts == 0
                    and not intent.held_at(now)
                ]
                counted = await ledger.attempt_first(fresh) if fresh else {}

                async def deliver(send: Send) -> None:
                    intent = intents[send.key]
                    if intent.state == "pending" and not intent.held_at(now):
                        intent = await self._send(ledger, send, intent, counted.get(send.key))
                    intents[send.key] = intent

                claimed = [s for s in sends if s.key in intents]
                outcomes = await asyncio.gather(
                    *(deliver(s) for s in claimed), return_exceptions=True
                )
                finished = [
                    (s, intents[s.key])
                    for s, outcome in zip(claimed, outcomes, strict=True)
                    if not isinstance(outcome, BaseException)
                ]
                await self._publish_outcomes(ledger, finished, now)
            finally:
                with contextlib.suppress(Exception):
                    await ledger.release()
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if errors:
            raise errors[0]
        held = len(sends) - len(intents)
        if held:
            raise HeldByAnotherWorker(f"{held} of {len(sends)} sends are held by another worker")

    async def release_due(self, limit: int = RELEASE_BATCH) -> int:
        """Send up to ``limit`` held copies whose time has come (the earliest first); how many
        were due. Raises like :meth:`send_all` when any must be retried."""
        async with (await self._open_ledger_pool()).acquire() as conn:
            due = await SendLedger(conn).due(self._deps.now(), limit)
        await self.send_all(due)
        return len(due)

    async def _hold_back_stopped(
        self,
        ledger: SendLedger,
        sends: Sequence[Send],
        intents: dict[str, Intent],
        now: datetime,
    ) -> None:
        """Hold back, in ``intents`` and the ledger, the announcement copies not attempted yet
        whose recipients are no longer subscribed. A send already attempted is in doubt and
        goes its usual way: Twilio may have it. A copy held for quiet hours is asked about
        when its time comes (the recipient may stop overnight)."""
        waiting: dict[tuple[UUID, UUID | None], list[Send]] = {}
        for send in sends:
            intent = intents.get(send.key)
            if (
                send.announcement_id is not None
                and intent is not None
                and intent.state == "pending"
                and intent.attempts == 0
                and not intent.held_at(now)
            ):
                waiting.setdefault((send.announcement_id, send.client_id), []).append(send)
        for (announcement_id, client_id), candidates in waiting.items():
            found = await self._deps.subgraphs.call(
                user_ops.recipients_to_send,
                user_ops.RecipientsToSendVars(
                    client_id=str(client_id),
                    announcement_id=str(announcement_id),
                    subscriber_ids=[str(s.subscriber_id) for s in candidates],
                ),
            )
            to_send = {r.subscriber_id for r in found.recipients}
            for send in candidates:
                if str(send.subscriber_id) not in to_send:
                    log.info("copy held back: the recipient stopped", key=send.key)
                    intents[send.key] = await ledger.failed(send.key, HELD_BACK)

    async def _hold_for_quiet_hours(
        self,
        ledger: SendLedger,
        sends: Sequence[Send],
        intents: dict[str, Intent],
        now: datetime,
    ) -> None:
        """Hold, in ``intents`` and the ledger, the copies never attempted nor held whose
        recipients are in quiet hours at ``now``, until their window opens."""
        if not self._deps.settings.quiet_hours:
            return
        holds: list[tuple[Send, datetime]] = []
        for send in sends:
            intent = intents.get(send.key)
            if (
                not send.quiet_hours
                or intent is None
                or intent.state != "pending"
                or intent.attempts > 0
                or intent.held_until is not None
            ):
                continue
            try:
                to = self._deps.vault.decrypt(send.to_ciphertext)
            except Exception:  # noqa: S112 (the send fails for it as final, in ``_send``)
                continue
            until = held_until(to, now, quiet_hours=send.quiet_hours)
            if until is not None:
                holds.append((send, until))
        if holds:
            held = await ledger.hold(holds)
            intents.update(held)
            log.info("copies held for quiet hours", held=len(held))

    async def _send(
        self, ledger: SendLedger, send: Send, intent: Intent, counted: Intent | None = None
    ) -> Intent:
        """Send once; ``counted`` is the intent after its first attempt was counted already
        (in one statement for the work item)."""
        try:
            to = self._deps.vault.decrypt(send.to_ciphertext)
        except Exception as exc:  # not base64, another key, tampered: all final
            raise PermanentError(f"send {send.key}: the recipient cannot be decrypted") from exc
        if intent.attempts > 0:
            # A previous attempt's outcome was never recorded: Twilio may have the message.
            found = await self._find(to, send, intent)
            if found is not None:
                log.info("in-doubt send found at Twilio, not sent again", key=send.key)
                return await ledger.sent(send.key, found)
        # 429 and 5xx: retried here with backoff (0.4 s, then 0.8 s) before the consumer
        # loop's retry takes over; a send that may have been accepted is looked for first.
        maybe_accepted = False
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(SendUnavailable),
            stop=stop_after_attempt(ATTEMPTS_PER_CALL),
            wait=wait_exponential(multiplier=RETRY_BACKOFF),
            reraise=True,
        ):
            with attempt:
                number = attempt.retry_state.attempt_number
                if maybe_accepted and (found := await self._find(to, send, intent)):
                    return await ledger.sent(send.key, found)
                if number == 1 and counted is not None:
                    intent = counted
                else:
                    intent = await ledger.attempt(send.key)
                try:
                    async with self._in_flight:
                        message = await self._sender.send(to, send.body, send.status_callback)
                except SendRefused as exc:
                    log.warning("twilio refused a message", key=send.key, error_code=exc.code)
                    return await ledger.failed(send.key, exc.code)
                except SendUnavailable as exc:
                    log.warning(
                        "twilio send to retry", key=send.key, error=str(exc), attempt=number
                    )
                    maybe_accepted = exc.maybe_accepted
                    raise
                return await ledger.sent(send.key, message)
        raise AssertionError("unreachable: tenacity returns or raises")

    async def _find(self, to: str, send: Send, intent: Intent) -> SentMessage | None:
        assert intent.first_attempt_at is not None
        async with self._in_flight:
            return await self._sender.find_sent(
                to, send.body, intent.first_attempt_at - RECONCILE_MARGIN
            )

    async def _publish_outcomes(
        self, ledger: SendLedger, done: Sequence[tuple[Send, Intent]], now: datetime
    ) -> None:
        """The settled outcomes of announcement copies not published yet, and the holds not
        published yet, one event per announcement of the work item (it has one)."""
        by_announcement: dict[UUID, list[tuple[Send, Intent]]] = {}
        for send, intent in done:
            if send.announcement_id is None:
                continue
            settled = not intent.delivery_recorded and intent.state != "pending"
            held = intent.held_at(now) and not intent.hold_recorded
            if settled or held:
                by_announcement.setdefault(send.announcement_id, []).append((send, intent))
        for announcement_id, reported in by_announcement.items():
            client_id = reported[0][0].client_id
            assert client_id is not None
            data = sms.AnnouncementOutcomesData(
                announcement_id=announcement_id,
                client_id=client_id,
                outcomes=[_outcome(send, intent) for send, intent in reported],
            )
            await ledger.publish_outcomes(
                data,
                [send.key for send, intent in reported if intent.state != "pending"],
                [send.key for send, intent in reported if intent.state == "pending"],
            )


def _outcome(send: Send, intent: Intent) -> sms.SendOutcome:
    """What became of one copy, as the ledger says."""
    assert send.subscriber_id is not None
    if intent.state == "pending":
        return sms.SendOutcome(
            subscriber_id=send.subscriber_id, outcome="held", held_until=intent.held_until
        )
    if intent.state == "sent":
        return sms.SendOutcome(
            subscriber_id=send.subscriber_id,
            outcome="queued",
            message_sid=intent.message_sid,
            segments=intent.segments,
        )
    if intent.error_code == HELD_BACK:
        return sms.SendOutcome(subscriber_id=send.subscriber_id, outcome="held_back")
    return sms.SendOutcome(
        subscriber_id=send.subscriber_id, outcome="failed", error_code=intent.error_code
    )


# --- the consumer ------------------------------------------------------------------------


def _outbound_send(deps: Deps, data: sms.OutboundSmsData) -> Send:
    return Send(
        key=data.idempotency_key,
        to_ciphertext=data.to_ciphertext,
        body=data.body,
        status_callback=data.status_callback or deps.settings.twilio_status_callback_url,
    )


def batch_sends(deps: Deps, data: fanout.AnnouncementBatchData) -> list[Send]:
    """Every recipient's send of an announcement batch."""
    callback = data.status_callback or deps.settings.twilio_status_callback_url
    sends = []
    for recipient in data.recipients:
        text = data.texts.get(recipient.locale)
        if text is None:
            raise PermanentError(f"batch {data.batch}: no text for locale {recipient.locale!r}")
        sends.append(
            Send(
                key=announcement_send_key(data.announcement_id, recipient.subscriber_id),
                to_ciphertext=recipient.to_ciphertext,
                body=text,
                status_callback=callback,
                announcement_id=data.announcement_id,
                subscriber_id=recipient.subscriber_id,
                client_id=data.client_id,
                quiet_hours=data.quiet_hours,
            )
        )
    return sends


def sending_consumer(deps: Deps, sending: SmsSending, group: str = GROUP) -> EventConsumer:
    """One consumer of ``sms.outbound`` and announcement batches, sending with ``sending``."""

    async def outbound(envelope: Envelope, data: Any, ctx: HandlerContext) -> None:
        await sending.send_all([_outbound_send(deps, data)])

    async def batch(envelope: Envelope, data: Any, ctx: HandlerContext) -> None:
        await sending.send_all(batch_sends(deps, data))

    return EventConsumer(
        group=group,
        settings=deps.settings,
        pool=deps.pool,
        handlers={sms.sms_outbound: outbound, fanout.announcement_batch: batch},
        max_attempts=deps.settings.max_attempts,
    )


class HeldCopies:
    """Sends the copies held for quiet hours once their time comes: a round every
    ``interval`` seconds (at once again while rounds come back full), through ``sending``."""

    def __init__(self, sending: SmsSending, interval: float) -> None:
        self._sending = sending
        self._interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        """Release rounds until ``stop`` is set; a failed round is tried again next time."""
        while not stop.is_set():
            try:
                released = await self._sending.release_due()
            except HeldByAnotherWorker:
                released = 0  # another process's release or a redelivered work item has them
            except Exception as exc:
                log.warning("held copies to release again", error=str(exc))
                released = 0
            if released >= RELEASE_BATCH:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)


def consumers(deps: Deps) -> tuple[list[EventConsumer], HeldCopies]:
    """One sending consumer per partition, sharing one Twilio client, the sending rate and
    the ledger's connections (one each, and one for the release of held copies), and the
    release of held copies through them."""
    workers = max(1, min(deps.settings.kafka_topic_partitions, 8))
    sending = SmsSending(deps, TwilioSender(deps.settings), ledger_connections=workers + 1)
    held = HeldCopies(sending, deps.settings.held_release_interval)
    return [sending_consumer(deps, sending) for _ in range(workers)], held
