"""Quiet hours (SPEC §5 Fan-out): no announcement copy is delivered between 21:00 and 08:00 in
the subscriber's local time, the time zone coming from the number; a held copy goes out at
08:00.

A number's time zones are those ``phonenumbers`` gives for it: one for most geographic
numbers, several when the number does not say where in a country it is (a Spanish mobile:
Madrid or the Canaries), none known for many mobiles (a British or Mexican mobile), which then
take the zones of their country code. With several zones a copy goes only when it is daytime
in every one of them; for the few numbers whose zones share no daytime (a North American
toll-free number spans Guam to Samoa) the zone with the median UTC offset decides. A number
with no zone at all (or no number at all) is taken to be on UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_zones
from phonenumbers.tzdata import TIMEZONE_DATA

#: The start of the day's sending (local time); copies held overnight go out then.
DAY_STARTS = time(8, 0)
#: The start of quiet hours (local time).
QUIET_STARTS = time(21, 0)
_UNKNOWN = "Etc/Unknown"


def _daytime(at: datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone).time()
    return DAY_STARTS <= local < QUIET_STARTS


def _day_starts_after(at: datetime, zone: ZoneInfo) -> list[datetime]:
    """The 08:00 of ``zone`` on the local day of ``at`` and the two after it, in UTC."""
    today = at.astimezone(zone).date()
    return [
        datetime.combine(today + timedelta(days=d), DAY_STARTS, tzinfo=zone).astimezone(UTC)
        for d in range(3)
    ]


@dataclass(frozen=True)
class SendingWindow:
    """The daytime of one number: when a copy to it may be delivered."""

    zones: tuple[ZoneInfo, ...]

    def allows(self, at: datetime) -> bool:
        """Whether a copy may be delivered at ``at`` (an aware datetime)."""
        return self.opens_at(at) == at

    def opens_at(self, at: datetime) -> datetime:
        """The first instant from ``at`` on (``at`` itself when allowed) at which a copy may be
        delivered, in UTC."""
        at = at.astimezone(UTC)
        if self._daytime_everywhere(at):
            return at
        candidates = sorted(
            start for zone in self.zones for start in _day_starts_after(at, zone) if start > at
        )
        for start in candidates:
            if self._daytime_everywhere(start):
                return start
        return SendingWindow((self._median_zone(at),)).opens_at(at)

    def _daytime_everywhere(self, at: datetime) -> bool:
        return all(_daytime(at, zone) for zone in self.zones)

    def _median_zone(self, at: datetime) -> ZoneInfo:
        by_offset = sorted(self.zones, key=lambda z: at.astimezone(z).utcoffset() or timedelta())
        return by_offset[len(by_offset) // 2]


def zones_of(e164: str) -> tuple[ZoneInfo, ...]:
    """The time zones of a number (E.164), as ``phonenumbers`` knows them (see the module)."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return (ZoneInfo("UTC"),)  # Twilio refuses it when it is sent
    names = [n for n in number_zones.time_zones_for_number(number) if n != _UNKNOWN]
    if not names:
        names = list(TIMEZONE_DATA.get(str(number.country_code), ()))
    zones = tuple(ZoneInfo(name) for name in names if name != _UNKNOWN)
    return zones or (ZoneInfo("UTC"),)


def sending_window(e164: str) -> SendingWindow:
    """The sending window of the number ``e164``."""
    return SendingWindow(zones_of(e164))


def held_until(e164: str, now: datetime, *, quiet_hours: bool = True) -> datetime | None:
    """Until when a copy to ``e164`` about to go at ``now`` is held: the opening of the
    number's window (UTC), or None when it goes now (daytime there, or its client turned
    ``quiet_hours`` off)."""
    if not quiet_hours:
        return None
    opens = sending_window(e164).opens_at(now)
    return opens if opens > now else None
