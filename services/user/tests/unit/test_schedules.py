"""The composer's rules: when a chosen wall-clock time is, and what may be sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nudges_kit.sms_text import AnnouncementQuote
from nudges_user.domain.model import InvalidInput
from nudges_user.domain.schedules import (
    Refusal,
    ScheduledAnnouncement,
    ScheduleStatus,
    client_time_zone,
    number_time_zone,
    refusal,
    start_time,
    time_zone_setting,
)

NOW = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)


def test_a_wall_clock_time_is_read_in_the_clients_zone() -> None:
    moment = start_time(datetime(2026, 3, 7, 9, 30), "America/New_York", NOW)
    assert moment.astimezone(UTC) == datetime(2026, 3, 7, 14, 30, tzinfo=UTC)
    paris = start_time(datetime(2026, 7, 1, 9, 30), "Europe/Paris", NOW)
    assert paris.astimezone(UTC) == datetime(2026, 7, 1, 7, 30, tzinfo=UTC)  # summer time


def test_a_time_with_an_offset_is_the_same_moment() -> None:
    moment = start_time(datetime(2026, 3, 7, 14, 30, tzinfo=UTC), "Asia/Tokyo", NOW)
    assert moment == datetime(2026, 3, 7, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local", "zone", "field"),
    [
        (datetime(2026, 3, 7, 6, 59), "America/New_York", "sendAt"),  # 11:59 UTC: past
        (datetime(2027, 3, 9, 12, 0), "UTC", "sendAt"),  # more than a year ahead
        (datetime(2026, 3, 8, 12, 0), "Mars/Olympus", "timeZone"),
        (datetime(2026, 3, 8, 12, 0), "", "timeZone"),
    ],
)
def test_past_far_and_unknown_zones_are_refused(local: datetime, zone: str, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        start_time(local, zone, NOW)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("number", "zone"),
    [
        ("+14155550123", "America/Los_Angeles"),  # San Francisco
        ("+12125550123", "America/New_York"),  # New York
        ("+33142000000", "Europe/Paris"),  # a Paris landline
        ("+447700900123", None),  # a British mobile: no zone of its own
        ("+34612345678", None),  # a Spanish mobile: Madrid or the Canaries
        ("+18005550123", None),  # toll-free: every North American zone
        ("not a number", None),
        (None, None),
    ],
)
def test_a_number_gives_its_zone_only_when_it_has_exactly_one(
    number: str | None, zone: str | None
) -> None:
    assert number_time_zone(number) == zone


def test_the_clients_zone_is_their_setting_then_their_number_then_the_browser_then_utc() -> None:
    paris = "+33142000000"
    assert client_time_zone("Asia/Tokyo", paris, "America/Chicago") == "Asia/Tokyo"
    assert client_time_zone(None, paris, "America/Chicago") == "Europe/Paris"
    assert client_time_zone(None, "+34612345678", "America/Chicago") == "America/Chicago"
    assert client_time_zone(None, None, "Mars/Olympus") == "UTC"
    assert client_time_zone(None, "+34612345678") == "UTC"


def test_a_time_zone_setting_is_a_known_zone_or_nothing() -> None:
    assert time_zone_setting(" Europe/Lisbon ") == "Europe/Lisbon"
    assert time_zone_setting("") is None
    with pytest.raises(InvalidInput) as raised:
        time_zone_setting("Europe/Atlantis")
    assert raised.value.field == "timeZone"


def test_only_a_schedule_not_started_is_cancellable() -> None:
    base = ScheduledAnnouncement(
        "s", "c", "Hi", NOW + timedelta(hours=1), "UTC", ScheduleStatus.SCHEDULED, None, NOW
    )
    assert base.cancellable
    started = ScheduledAnnouncement("s", "c", "Hi", NOW, "UTC", ScheduleStatus.STARTED, "a", NOW)
    assert not started.cancellable
    refused = ScheduledAnnouncement(
        "s", "c", "Hi", NOW, "UTC", ScheduleStatus.REFUSED, None, NOW, Refusal.TOO_LONG, NOW
    )
    assert not refused.cancellable


def test_what_may_be_sent_follows_confirm() -> None:
    ok = {"active": True, "recipients": 3, "fits": True, "messages": 5, "remaining": 5}
    assert refusal(**ok) is None  # type: ignore[arg-type]
    assert refusal(**{**ok, "active": False}) is Refusal.NO_ACTIVE_PLAN  # type: ignore[arg-type]
    assert refusal(**{**ok, "recipients": 0}) is Refusal.NO_SUBSCRIBERS  # type: ignore[arg-type]
    assert refusal(**{**ok, "fits": False}) is Refusal.TOO_LONG  # type: ignore[arg-type]
    assert refusal(**{**ok, "remaining": 4}) is Refusal.ALLOWANCE_EXCEEDED  # type: ignore[arg-type]


def test_the_quote_charges_each_locale_its_copys_segments() -> None:
    body = "x" * 140
    copies = {
        "en": f"Shop: {body}\nReply STOP to opt out",  # 166 GSM-7 characters: 2 segments
        "es": f"Shop: {body}\nResponde STOP",  # 159: 1 segment
    }
    quoted = AnnouncementQuote.of(body, {"en": 3, "es": 2, "fr": 0}, copies)
    assert quoted.segments == {"en": 2, "es": 1}
    assert quoted.audience == {"en": 3, "es": 2}
    assert quoted.recipients == 5
    assert quoted.messages == 3 * 2 + 2 * 1
    assert quoted.fits
    assert quoted.max_body_characters == 1600 - len("Shop: \nReply STOP to opt out")
