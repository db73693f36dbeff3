"""Message resources as Twilio keeps them: sid, numbers, body, status, segments and dates,
and the list Twilio pages through (newest first, filtered by To, From and DateSent)."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from nudges_emulators.delivery import Delivery

API_VERSION = "2010-04-01"

_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def segments(body: str) -> int:
    """How many SMS segments ``body`` takes: GSM-7 when every character has a GSM-7 code
    (160 alone, 153 per part), otherwise UCS-2 (70 alone, 67 per part)."""
    if all(c in _GSM7 or c in _GSM7_EXTENDED for c in body):
        septets = sum(2 if c in _GSM7_EXTENDED else 1 for c in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def new_sid(prefix: str = "SM") -> str:
    """A Twilio sid: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def rfc2822(at: datetime | None) -> str | None:
    """Twilio's date format: ``Thu, 24 Aug 2023 05:01:45 +0000``."""
    return format_datetime(at) if at is not None else None


@dataclass
class StatusCallback:
    """One status callback POST of a message (``sent``, ``delivered``, ...)."""

    status: str
    delivery: Delivery

    def as_json(self) -> dict[str, Any]:
        """As ``/_emulator/messages`` shows it."""
        return {"status": self.status, **self.delivery.as_json()}


@dataclass
class Message:
    """One message the emulator accepted or received."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    direction: str
    status: str
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    date_created: datetime = field(default_factory=lambda: datetime.now(UTC))
    date_updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    date_sent: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None
    #: The statuses still to come, in order (``sent``, ``delivered``).
    pending: list[str] = field(default_factory=list)
    callbacks: list[StatusCallback] = field(default_factory=list)

    @property
    def uri(self) -> str:
        """The message's own resource path."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def resource(self) -> dict[str, Any]:
        """The message as Twilio's API returns it."""
        sent = self.status in ("sent", "delivered", "undelivered", "read")
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(segments(self.body)),
            "price": f"-{0.0079 * segments(self.body):.5f}" if sent else None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": self.uri.replace(".json", "/Media.json"),
                "feedback": self.uri.replace(".json", "/Feedback.json"),
            },
            "to": self.to,
            "uri": self.uri,
        }

    def record(self) -> dict[str, Any]:
        """The message as ``/_emulator/messages`` shows it: what was sent, and its callbacks."""
        return {
            "sid": self.sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "direction": self.direction,
            "status": self.status,
            "num_segments": segments(self.body),
            "error_code": self.error_code,
            "messaging_service_sid": self.messaging_service_sid,
            "status_callback": self.status_callback,
            "date_created": self.date_created.isoformat(),
            "date_sent": self.date_sent.isoformat() if self.date_sent else None,
            "callbacks": [c.as_json() for c in self.callbacks],
        }


def _parse_when(value: str) -> tuple[datetime, bool]:
    """A ``DateSent`` filter value: a date (``2024-05-01``) or a UTC datetime; and whether it
    was a whole day."""
    text = value.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC), True
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (at if at.tzinfo else at.replace(tzinfo=UTC)), False


@dataclass(frozen=True)
class MessageFilter:
    """The filters of ``GET .../Messages.json``."""

    to: str | None = None
    from_: str | None = None
    sent_on: str | None = None
    sent_after: str | None = None
    sent_before: str | None = None

    @classmethod
    def from_query(cls, query: dict[str, str]) -> MessageFilter:
        """The filters of a request's query string (``To``, ``From``, ``DateSent``,
        ``DateSent>``, ``DateSent<``)."""
        return cls(
            to=query.get("To") or None,
            from_=query.get("From") or None,
            sent_on=query.get("DateSent") or None,
            sent_after=query.get("DateSent>") or None,
            sent_before=query.get("DateSent<") or None,
        )

    def query(self) -> dict[str, str]:
        """Back into query parameters, for the paging links."""
        pairs = {
            "To": self.to,
            "From": self.from_,
            "DateSent": self.sent_on,
            "DateSent>": self.sent_after,
            "DateSent<": self.sent_before,
        }
        return {k: v for k, v in pairs.items() if v is not None}

    def keep(self, message: Message) -> bool:
        """Whether ``message`` passes. A message not sent yet is dated by its creation, so
        that a caller reconciling an in-doubt send finds it at once."""
        if self.to is not None and message.to != self.to:
            return False
        if self.from_ is not None and message.from_ != self.from_:
            return False
        when = message.date_sent or message.date_created
        if self.sent_on is not None:
            at, whole_day = _parse_when(self.sent_on)
            if whole_day and when.date() != at.date():
                return False
            if not whole_day and when.replace(microsecond=0) != at:
                return False
        if self.sent_after is not None:
            at, _ = _parse_when(self.sent_after)
            if when < at:
                return False
        if self.sent_before is not None:
            at, whole_day = _parse_when(self.sent_before)
            if when >= (at + timedelta(days=1) if whole_day else at + timedelta(seconds=1)):
                return False
        return True


class MessageStore:
    """Every message by sid, in the order they were created, with an index by ``To``."""

    def __init__(self) -> None:
        self.by_sid: dict[str, Message] = {}
        self.by_to: dict[str, list[Message]] = {}

    def add(self, message: Message) -> Message:
        """Keep ``message``."""
        self.by_sid[message.sid] = message
        self.by_to.setdefault(message.to, []).append(message)
        return message

    def clear(self) -> None:
        """Forget every message."""
        self.by_sid.clear()
        self.by_to.clear()

    def select(self, where: MessageFilter) -> list[Message]:
        """The messages passing ``where``, oldest first."""
        source = self.by_to.get(where.to, []) if where.to else self.by_sid.values()
        return [m for m in source if where.keep(m)]

    def page(
        self,
        account_sid: str,
        where: MessageFilter,
        page_size: int,
        page: int,
        page_token: str | None,
    ) -> dict[str, Any]:
        """One page of ``GET .../Messages.json``, newest first, with Twilio's paging links.
        ``PageToken`` (``PA`` + the last sid of the previous page) keeps pages stable while new
        messages arrive."""
        rows = list(reversed(self.select(where)))
        start = page * page_size
        if page_token and page_token.startswith("PA"):
            sids = [m.sid for m in rows]
            last = page_token[2:]
            start = sids.index(last) + 1 if last in sids else start
        chosen = rows[start : start + page_size]
        base = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"

        def link(page_number: int, token: str | None) -> str:
            query = {**where.query(), "PageSize": str(page_size), "Page": str(page_number)}
            if token:
                query["PageToken"] = token
            return f"{base}?{urlencode(query)}"

        has_next = start + page_size < len(rows)
        return {
            "messages": [m.resource() for m in chosen],
            "end": start + len(chosen) - 1 if chosen else start,
            "first_page_uri": link(0, None),
            "next_page_uri": link(page + 1, f"PA{chosen[-1].sid}") if has_next else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": link(page - 1, None) if page > 0 else None,
            "start": start,
            "uri": link(page, page_token),
        }
