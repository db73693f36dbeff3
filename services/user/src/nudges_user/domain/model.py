"""The rules of users, clients, memberships and announcements: plain functions, no I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")
RESERVED_SLUGS = frozenset({"admin", "api", "auth", "graphql", "webhooks", "c", "signup", "www"})
SUPPORTED_LOCALES = ("en", "es", "fr", "de")
MAX_NAME = 80
MAX_ANNOUNCEMENT = 1600


class InvalidInput(ValueError):
    """Input a person must correct; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"


class AnnouncementStatus(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNDELIVERED = "undelivered"
    #: Never sent: the subscriber texted STOP between the confirmation and their copy.
    STOPPED = "stopped"


#: A delivery's status only moves forward: a late "sent" never overwrites "delivered".
DELIVERY_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.FAILED: 2,
    DeliveryStatus.UNDELIVERED: 2,
    DeliveryStatus.STOPPED: 2,
}


def slugify(name: str) -> str:
    """A URL-safe slug made from a client's name."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    return slug if len(slug) >= 3 else f"{slug or 'client'}-nudges"


def check_slug(slug: str) -> str:
    """``slug`` when it is usable in ``/c/{slug}``."""
    if not SLUG_PATTERN.match(slug):
        raise InvalidInput(
            "slug",
            "use 3 to 40 lowercase letters, digits and hyphens, starting and ending "
            "with a letter or digit",
        )
    if slug in RESERVED_SLUGS:
        raise InvalidInput("slug", f"'{slug}' is reserved")
    return slug


def check_name(name: str) -> str:
    """A client's display name, trimmed."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("name", "the name cannot be empty")
    if len(cleaned) > MAX_NAME:
        raise InvalidInput("name", f"the name is longer than {MAX_NAME} characters")
    if any(unicodedata.category(c) == "Cc" for c in cleaned):
        raise InvalidInput("name", "the name contains control characters")
    return cleaned


def check_locale(locale: str) -> str:
    """A supported language (``es-MX`` is accepted as ``es``)."""
    base = locale.replace("_", "-").split("-")[0].lower()
    if base not in SUPPORTED_LOCALES:
        raise InvalidInput("locale", f"supported languages are {', '.join(SUPPORTED_LOCALES)}")
    return base


def check_announcement_body(body: str) -> str:
    """An announcement's text: not empty, at most 1,600 characters, no control characters."""
    text = body.strip()
    if not text:
        raise InvalidInput("body", "the message is empty")
    if len(text) > MAX_ANNOUNCEMENT:
        raise InvalidInput("body", f"the message is longer than {MAX_ANNOUNCEMENT} characters")
    if any(unicodedata.category(c) == "Cc" and c not in "\n" for c in text):
        raise InvalidInput("body", "the message contains control characters")
    return text


def delivery_moves_forward(current: DeliveryStatus | None, new: DeliveryStatus) -> bool:
    """True when ``new`` is a later status than ``current`` (callbacks arrive out of order).

    ``stopped`` is only ever a first status: a copy that went to Twilio was not held back."""
    if new is DeliveryStatus.STOPPED or current is DeliveryStatus.STOPPED:
        return current is None
    return current is None or DELIVERY_RANK[new] > DELIVERY_RANK[current]


@dataclass(frozen=True)
class CountChanges:
    """What an announcement's counters gain when one of its deliveries changes status."""

    sent: int = 0
    delivered: int = 0
    failed: int = 0
    stopped: int = 0

    def __add__(self, other: CountChanges) -> CountChanges:
        return CountChanges(
            self.sent + other.sent,
            self.delivered + other.delivered,
            self.failed + other.failed,
            self.stopped + other.stopped,
        )

    def __bool__(self) -> bool:
        return bool(self.sent or self.delivered or self.failed or self.stopped)


def count_changes(previous: DeliveryStatus | None, status: DeliveryStatus) -> CountChanges:
    """The counters' gains when a delivery moves forward from ``previous`` to ``status``:
    ``sent`` once per copy whatever the order of "sent" and "delivered", the final statuses
    once each."""
    was_sent = previous in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
    return CountChanges(
        sent=int(status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED) and not was_sent),
        delivered=int(status is DeliveryStatus.DELIVERED),
        failed=int(status in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED)),
        stopped=int(status is DeliveryStatus.STOPPED),
    )


@dataclass(frozen=True)
class DeliveryUpdate:
    """One recipient's delivery status to record (the sender's or a status callback's)."""

    subscriber_id: str
    status: DeliveryStatus
    provider_message_id: str | None = None
    error_code: str | None = None
    #: Twilio's segments of the copy, when it was sent.
    segments: int | None = None


#: Twilio's message statuses in the words of deliveries; the others (queued, sending,
#: accepted, received...) change nothing.
PROVIDER_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


@dataclass(frozen=True)
class AnnouncementCounts:
    """The counters of an announcement and whether sending is finished."""

    recipients: int
    sent: int
    delivered: int
    failed: int
    stopped: int = 0

    @property
    def done(self) -> bool:
        return self.delivered + self.failed + self.stopped >= self.recipients


@dataclass(frozen=True)
class Client:
    id: str
    user_id: str
    name: str
    slug: str
    locale: str
    stripe_customer_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class Subscriber:
    id: str
    user_id: str
    locale: str
    phone_ciphertext: str
    created_at: datetime


@dataclass(frozen=True)
class Membership:
    id: str
    client_id: str
    subscriber_id: str
    status: MembershipStatus
    source: str
    joined_at: datetime
    stopped_at: datetime | None


@dataclass(frozen=True)
class Announcement:
    id: str
    client_id: str
    body: str
    status: AnnouncementStatus
    recipients: int
    sent: int
    delivered: int
    failed: int
    created_at: datetime
    confirmed_at: datetime | None
    completed_at: datetime | None
    #: Recipients whose copy was held back because they texted STOP before it was sent.
    stopped: int = 0
