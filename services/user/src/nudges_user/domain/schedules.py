"""The rules of scheduled announcements and the web composer: which zone a client's times are
read in, when a time the client chose in their zone is, whether it may still be chosen or
cancelled, and whether a quoted text may be sent. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as number_zones

from nudges_user.domain.model import InvalidInput

#: How far ahead an announcement may be scheduled.
MAX_AHEAD = timedelta(days=366)
#: How long a schedule refused at its time stays listed with the scheduled ones.
REFUSALS_LISTED = timedelta(days=7)


class ScheduleStatus(StrEnum):
    SCHEDULED = "scheduled"
    STARTED = "started"
    CANCELED = "canceled"
    #: Not started: at its time the plan, the audience or the allowance did not allow it.
    REFUSED = "refused"


class Refusal(StrEnum):
    """Why a quoted announcement may not be sent (as the dialogue's CONFIRM refuses it)."""

    NO_ACTIVE_PLAN = "no_active_plan"
    NO_SUBSCRIBERS = "no_subscribers"
    TOO_LONG = "too_long"
    ALLOWANCE_EXCEEDED = "allowance_exceeded"


@dataclass(frozen=True)
class ScheduledAnnouncement:
    id: str
    client_id: str
    body: str
    run_at: datetime
    time_zone: str
    status: ScheduleStatus
    announcement_id: str | None
    created_at: datetime
    #: Why it did not start (``REFUSED`` only), and when that was decided.
    refusal: Refusal | None = None
    refused_at: datetime | None = None

    @property
    def cancellable(self) -> bool:
        """Only a schedule that has not started may be cancelled."""
        return self.status is ScheduleStatus.SCHEDULED


def check_time_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``timeZone`` is what a person corrects otherwise)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("timeZone", "timeZone is not a known time zone") from None


def time_zone_setting(name: str) -> str | None:
    """A client's time zone setting: a known IANA zone; None for an empty one (the default)."""
    name = name.strip()
    if not name:
        return None
    check_time_zone(name)
    return name


def number_time_zone(e164: str | None) -> str | None:
    """The zone of the number ``e164`` when ``phonenumbers`` knows exactly one for it (most
    geographic numbers); None when it knows none or several (a country's mobiles)."""
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return None
    names = {n for n in number_zones.time_zones_for_number(number) if n != "Etc/Unknown"}
    return names.pop() if len(names) == 1 else None


def client_time_zone(setting: str | None, e164: str | None, browser: str | None = None) -> str:
    """The zone a client's times are read in: their setting; else the zone of their number
    when it has exactly one; else the zone of the browser they use (when it is a known one);
    else UTC."""
    if setting:
        return setting
    if (by_number := number_time_zone(e164)) is not None:
        return by_number
    if browser:
        try:
            check_time_zone(browser)
        except InvalidInput:
            pass
        else:
            return browser
    return "UTC"


def start_time(local: datetime, time_zone: str, now: datetime) -> datetime:
    """The moment ``local`` (a wall-clock time without zone, as a person picks it) is in
    ``time_zone``; it must be after ``now`` and within :data:`MAX_AHEAD`. A time the clocks
    skip (spring forward) is read with the offset before the change (``fold=0``)."""
    zone = check_time_zone(time_zone)
    if local.tzinfo is not None:
        local = local.astimezone(zone).replace(tzinfo=None)
    moment = local.replace(tzinfo=zone)
    if moment <= now:
        raise InvalidInput("sendAt", "the time to send is in the past")
    if moment - now > MAX_AHEAD:
        raise InvalidInput("sendAt", "the time to send is more than a year ahead")
    return moment


def refusal(
    *, active: bool, recipients: int, fits: bool, messages: int, remaining: int
) -> Refusal | None:
    """Why an announcement of ``messages`` segments to ``recipients`` may not be sent now with
    the plan's allowance (``active``, ``remaining``); None when it may."""
    if not active:
        return Refusal.NO_ACTIVE_PLAN
    if recipients == 0:
        return Refusal.NO_SUBSCRIBERS
    if not fits:
        return Refusal.TOO_LONG
    if messages > remaining:
        return Refusal.ALLOWANCE_EXCEEDED
    return None
