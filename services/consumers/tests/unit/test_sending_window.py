"""Quiet hours: no copy between 21:00 and 08:00 in the subscriber's local time, the time zone
coming from the number; a held copy goes out at 08:00."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from nudges_consumers.domain.sending_window import (
    SendingWindow,
    held_until,
    sending_window,
    zones_of,
)

NEW_YORK = "+12125550123"
LOS_ANGELES = "+14155550123"
SPAIN_MOBILE = "+34612345678"  # Madrid or the Canaries
UK_MOBILE = "+447700900123"  # phonenumbers knows no zone: the country's
KARACHI = "+923001234567"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_zone_comes_from_the_number() -> None:
    assert zones_of(NEW_YORK) == (ZoneInfo("America/New_York"),)
    assert zones_of(LOS_ANGELES) == (ZoneInfo("America/Los_Angeles"),)
    assert ZoneInfo("Europe/London") in zones_of(UK_MOBILE)


@pytest.mark.parametrize(
    ("at", "allowed"),
    [
        (utc(2026, 7, 1, 11, 59), False),  # 07:59 in New York (EDT)
        (utc(2026, 7, 1, 12, 0), True),  # 08:00
        (utc(2026, 7, 2, 0, 59), True),  # 20:59
        (utc(2026, 7, 2, 1, 0), False),  # 21:00
        (utc(2026, 1, 15, 12, 0), False),  # 07:00 in winter (EST)
        (utc(2026, 1, 15, 13, 0), True),  # 08:00 in winter
    ],
)
def test_quiet_hours_are_21_to_8_local_time(at: datetime, allowed: bool) -> None:
    assert sending_window(NEW_YORK).allows(at) is allowed


def test_the_same_instant_is_day_in_one_zone_and_night_in_another() -> None:
    at = utc(2026, 7, 1, 13, 0)  # 09:00 in New York, 06:00 in San Francisco
    assert sending_window(NEW_YORK).allows(at)
    assert not sending_window(LOS_ANGELES).allows(at)


def test_a_copy_held_at_night_goes_out_at_8_the_next_morning() -> None:
    window = sending_window(NEW_YORK)
    evening = utc(2026, 7, 2, 2, 30)  # 22:30 on 1 July in New York
    assert window.opens_at(evening) == utc(2026, 7, 2, 12, 0)  # 08:00 on 2 July
    early = utc(2026, 7, 2, 9, 0)  # 05:00
    assert window.opens_at(early) == utc(2026, 7, 2, 12, 0)


def test_a_copy_in_daytime_goes_at_once() -> None:
    at = utc(2026, 7, 1, 15, 0)
    assert sending_window(NEW_YORK).opens_at(at) == at


def test_a_number_with_several_zones_waits_for_daytime_in_all() -> None:
    window = sending_window(SPAIN_MOBILE)
    # 07:30 in Madrid (CEST) is 06:30 in the Canaries: held until 08:00 in the Canaries.
    at = utc(2026, 7, 1, 5, 30)
    assert not window.allows(at)
    assert window.opens_at(at) == utc(2026, 7, 1, 7, 0)
    # 20:30 in Madrid, 19:30 in the Canaries: still daytime in both.
    assert window.allows(utc(2026, 7, 1, 18, 30))


def test_zones_far_apart_still_share_some_daytime() -> None:
    window = SendingWindow(
        (ZoneInfo("Pacific/Guam"), ZoneInfo("America/Chicago"), ZoneInfo("Pacific/Pago_Pago"))
    )
    at = utc(2026, 7, 1, 3, 0)  # 22:00 in Chicago
    # 08:00 in Guam is 17:00 in Chicago and 11:00 in Pago Pago.
    assert window.opens_at(at) == utc(2026, 7, 1, 22, 0)


def test_zones_with_no_common_daytime_follow_the_median_one() -> None:
    # Daytime in UTC is 08-21, in Shanghai 00-13 UTC, in Los Angeles (PDT) 15-04 UTC: no
    # instant is daytime in all three; UTC has the median offset.
    window = SendingWindow(
        (ZoneInfo("Asia/Shanghai"), ZoneInfo("UTC"), ZoneInfo("America/Los_Angeles"))
    )
    assert window.opens_at(utc(2026, 7, 1, 22, 0)) == utc(2026, 7, 2, 8, 0)
    assert window.opens_at(utc(2026, 7, 1, 9, 0)) == utc(2026, 7, 1, 9, 0)
    assert window.allows(utc(2026, 7, 1, 9, 0))
    assert not window.allows(utc(2026, 7, 1, 22, 0))


def test_the_opening_is_in_utc_whatever_the_zone_of_the_instant_asked() -> None:
    at = datetime(2026, 7, 1, 23, 0, tzinfo=ZoneInfo("America/New_York"))
    opens = sending_window(NEW_YORK).opens_at(at)
    assert opens == utc(2026, 7, 2, 12, 0)
    assert opens.tzinfo is UTC


def test_a_copy_at_22_is_held_until_8_and_one_at_10_goes_now() -> None:
    at = utc(2026, 7, 1, 5, 0)  # 22:00 on 30 June in Los Angeles, 10:00 in Karachi
    assert held_until(LOS_ANGELES, at) == utc(2026, 7, 1, 15, 0)  # 08:00 in Los Angeles
    assert held_until(KARACHI, at) is None


def test_a_client_without_quiet_hours_has_no_copy_held() -> None:
    at = utc(2026, 7, 1, 5, 0)
    assert held_until(LOS_ANGELES, at, quiet_hours=False) is None


def test_a_copy_is_held_until_daytime_in_the_latest_zone_of_the_number() -> None:
    at = utc(2026, 7, 1, 5, 30)  # 07:30 in Madrid, 06:30 in the Canaries
    assert held_until(SPAIN_MOBILE, at) == utc(2026, 7, 1, 7, 0)  # 08:00 in the Canaries
    assert held_until(SPAIN_MOBILE, utc(2026, 7, 1, 7, 0)) is None


def test_a_copy_due_at_the_opening_goes_then() -> None:
    opening = utc(2026, 7, 1, 15, 0)
    assert held_until(LOS_ANGELES, opening) is None
    assert held_until(LOS_ANGELES, utc(2026, 7, 1, 14, 59, 59)) == opening


def test_a_number_phonenumbers_cannot_read_is_taken_to_be_on_utc() -> None:
    assert zones_of("not a number") == (ZoneInfo("UTC"),)
    assert held_until("not a number", utc(2026, 7, 1, 22, 0)) == utc(2026, 7, 2, 8, 0)
