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
KEYWORD_PATTERN = re.compile(r"^[A-Za-z0-9]{2,20}$")
#: Words of the SMS dialogue (Webhooks): a client's keyword texted to Nudges must not be one.
RESERVED_KEYWORDS = frozenset(
    {
        *("STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL"),
        *("START", "UNSTOP", "HELP", "INFO", "CONFIRM", "YES", "NO", "JOIN", "LANG"),
    }
)
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
    #: Not sent yet: quiet hours at the subscriber's number; it goes at 08:00 their time.
    HELD = "held"


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


def check_keyword(keyword: str) -> str | None:
    """A client's keyword, in capitals; None for an empty one (the client has none)."""
    word = keyword.strip()
    if not word:
        return None
    if not KEYWORD_PATTERN.match(word):
        raise InvalidInput("keyword", "use 2 to 20 letters or digits, no spaces")
    if word.upper() in RESERVED_KEYWORDS:
        raise InvalidInput("keyword", f"'{word.upper()}' is reserved for Nudges")
    return word.upper()


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


@dataclass(frozen=True)
class Client:
    id: str
    user_id: str
    name: str
    slug: str
    locale: str
    stripe_customer_id: str | None
    created_at: datetime
    #: Announcement copies wait for 08:00 in each subscriber's time zone (SPEC §5).
    quiet_hours: bool = True
    #: The word people text to Nudges to join this client (None: only JOIN and the slug).
    keyword: str | None = None
    #: The IANA zone the client's times are read in (None: the default, see
    #: :func:`nudges_user.domain.schedules.client_time_zone`).
    time_zone: str | None = None


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
    #: Recipients whose copy waits for their morning (quiet hours), not sent yet.
    held: int = 0
