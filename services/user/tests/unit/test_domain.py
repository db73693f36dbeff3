"""UserApi's rules without a database: slugs, names, languages and announcement texts,
membership changes, the order of delivery statuses, the counters they move and when an
announcement is complete."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from nudges_user.domain.deliveries import (
    OUTCOME_STATUSES,
    PROVIDER_STATUSES,
    CountChanges,
    DeliveryUpdate,
    DeliveryWrite,
    apply_updates,
    count_changes,
    delivery_moves_forward,
    progress,
)
from nudges_user.domain.memberships import MembershipChange, membership_change
from nudges_user.domain.model import (
    Announcement,
    AnnouncementStatus,
    DeliveryStatus,
    InvalidInput,
    MembershipStatus,
    check_announcement_body,
    check_keyword,
    check_locale,
    check_name,
    check_slug,
    slugify,
)

S = DeliveryStatus
ACTIVE, STOPPED = MembershipStatus.ACTIVE, MembershipStatus.STOPPED
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
FAN = uuid.UUID(int=1)
OTHER = uuid.UUID(int=2)


# --- clients and announcements: what a person types ------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Ada's Yoga", "ada-s-yoga"),
        ("Café Olé!", "cafe-ole"),
        ("  --Run  Club--  ", "run-club"),
        ("Zo", "zo-nudges"),
        ("東京", "client-nudges"),
        ("x" * 60, "x" * 40),
    ],
)
def test_a_slug_is_made_url_safe_from_the_name(name: str, slug: str) -> None:
    assert slugify(name) == slug
    assert check_slug(slugify(name)) == slug


@pytest.mark.parametrize("bad", ["A b", "-dash", "dash-", "ab", "x" * 41, "naïve", "admin", "c"])
def test_unusable_or_reserved_slugs_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_slug(bad)
    assert refused.value.field == "slug"


def test_names_are_trimmed_and_bounded() -> None:
    assert check_name("  Ada's   Yoga ") == "Ada's Yoga"
    for bad in ("   ", "x" * 81, "Bell\x07"):
        with pytest.raises(InvalidInput) as refused:
            check_name(bad)
        assert refused.value.field == "name"


def test_a_language_is_one_of_the_supported_ones_by_its_base() -> None:
    assert [check_locale(x) for x in ("en", "es-MX", "fr_CA", "DE")] == ["en", "es", "fr", "de"]
    with pytest.raises(InvalidInput) as refused:
        check_locale("pt-BR")
    assert refused.value.field == "locale"


def test_an_announcement_is_not_empty_bounded_and_keeps_its_line_breaks() -> None:
    assert check_announcement_body("  Class moved\nto 7pm  ") == "Class moved\nto 7pm"
    assert len(check_announcement_body("x" * 1600)) == 1600
    for bad in ("  ", "x" * 1601, "tab\there"):
        with pytest.raises(InvalidInput) as refused:
            check_announcement_body(bad)
        assert refused.value.field == "body"


# --- memberships -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "wanted", "change"),
    [
        (None, ACTIVE, MembershipChange.JOINED),
        (ACTIVE, ACTIVE, None),  # joining twice
        (STOPPED, ACTIVE, MembershipChange.RESTARTED),
        (ACTIVE, STOPPED, MembershipChange.STOPPED),
        (STOPPED, STOPPED, None),  # leaving twice
        (None, STOPPED, None),  # nothing to stop
    ],
)
def test_membership_changes(
    current: MembershipStatus | None, wanted: MembershipStatus, change: MembershipChange | None
) -> None:
    assert membership_change(current, wanted) is change


# --- delivery statuses -----------------------------------------------------------------------


def test_statuses_only_move_forward() -> None:
    order = [S.QUEUED, S.SENT, S.DELIVERED]
    for i, earlier in enumerate(order):
        for later in order[i + 1 :]:
            assert delivery_moves_forward(earlier, later)
            assert not delivery_moves_forward(later, earlier)
        assert not delivery_moves_forward(earlier, earlier)
    finals = [S.DELIVERED, S.FAILED, S.UNDELIVERED]
    for final in finals:
        assert delivery_moves_forward(None, final)
        assert delivery_moves_forward(S.SENT, final)
        # One final outcome per copy: a late failure never turns a delivery into a failure.
        assert not any(delivery_moves_forward(final, other) for other in finals)


def test_a_held_back_copy_is_only_ever_a_first_status_or_follows_a_hold() -> None:
    assert delivery_moves_forward(None, S.STOPPED)
    # Held for quiet hours, then the subscriber texted STOP overnight.
    assert delivery_moves_forward(S.HELD, S.STOPPED)
    assert not any(delivery_moves_forward(s, S.STOPPED) for s in S if s not in (S.STOPPED, S.HELD))
    assert not any(delivery_moves_forward(S.STOPPED, s) for s in S)


def test_a_held_copy_moves_on_once_sent_and_never_back_to_held() -> None:
    assert delivery_moves_forward(None, S.HELD)
    assert all(delivery_moves_forward(S.HELD, s) for s in S if s is not S.HELD)
    assert not any(delivery_moves_forward(s, S.HELD) for s in S)


def test_a_held_copy_counts_as_held_until_it_goes() -> None:
    assert count_changes(None, S.HELD) == CountChanges(held=1)
    assert count_changes(S.HELD, S.QUEUED) == CountChanges(held=-1)
    assert count_changes(S.HELD, S.STOPPED) == CountChanges(stopped=1, held=-1)
    assert count_changes(S.HELD, S.DELIVERED) == CountChanges(sent=1, delivered=1, held=-1)


def test_twilio_and_sender_words_map_to_delivery_statuses() -> None:
    assert PROVIDER_STATUSES["read"] is S.DELIVERED
    assert PROVIDER_STATUSES["canceled"] is S.FAILED
    assert "queued" not in PROVIDER_STATUSES
    assert "accepted" not in PROVIDER_STATUSES
    assert OUTCOME_STATUSES == {
        "queued": S.QUEUED,
        "failed": S.FAILED,
        "held_back": S.STOPPED,
        "held": S.HELD,
    }


def test_sent_is_counted_once_whatever_the_order_of_sent_and_delivered() -> None:
    in_order = count_changes(None, S.QUEUED) + count_changes(S.QUEUED, S.SENT)
    in_order = in_order + count_changes(S.SENT, S.DELIVERED)
    overtaken = count_changes(S.QUEUED, S.DELIVERED)
    assert in_order == overtaken == CountChanges(sent=1, delivered=1)
    assert count_changes(S.SENT, S.UNDELIVERED) == CountChanges(failed=1)
    assert count_changes(None, S.FAILED) == CountChanges(failed=1)
    assert count_changes(None, S.STOPPED) == CountChanges(stopped=1)
    assert not count_changes(None, S.QUEUED)


def update(status: S, sid: str | None = None, **kw: Any) -> DeliveryUpdate:
    return DeliveryUpdate(str(kw.pop("fan", FAN)), status, sid, **kw)


def test_updates_in_order_write_one_row_per_recipient_and_count_each_transition_once() -> None:
    writes, gains = apply_updates(
        {},
        [
            update(S.QUEUED, "SM1", segments=2),
            update(S.DELIVERED, "SM1"),
            update(S.FAILED, error_code="21211", fan=OTHER),
        ],
    )
    assert writes == [
        DeliveryWrite(FAN, S.DELIVERED, "SM1", None, 2),
        DeliveryWrite(OTHER, S.FAILED, None, "21211", None),
    ]
    assert gains == CountChanges(sent=1, delivered=1, failed=1)


def test_a_regression_changes_no_status_and_no_counter_but_records_the_message() -> None:
    writes, gains = apply_updates({FAN: S.DELIVERED}, [update(S.SENT, "SM1")])
    assert writes == [DeliveryWrite(FAN, S.DELIVERED, "SM1", None, None)]
    assert not gains
    assert apply_updates({FAN: S.DELIVERED}, [update(S.SENT)]) == ([], CountChanges())
    # A copy already final, reported again (a redelivered outcome): nothing moves.
    writes, gains = apply_updates({FAN: S.FAILED}, [update(S.FAILED, error_code="21211")])
    assert (writes, gains) == ([], CountChanges())


def test_a_regression_in_the_same_batch_keeps_what_earlier_updates_brought() -> None:
    # The outcome (with its segments) and two parked callbacks, the later status first.
    writes, gains = apply_updates(
        {}, [update(S.QUEUED, "SM1", segments=2), update(S.DELIVERED, "SM1"), update(S.SENT, "SM1")]
    )
    assert writes == [DeliveryWrite(FAN, S.DELIVERED, "SM1", None, 2)]
    assert gains == CountChanges(sent=1, delivered=1)


def test_a_held_back_copy_counts_as_stopped_and_nothing_after_it_moves() -> None:
    writes, gains = apply_updates({}, [update(S.STOPPED), update(S.QUEUED)])
    assert writes == [DeliveryWrite(FAN, S.STOPPED, None, None, None)]
    assert gains == CountChanges(stopped=1)


# --- completion ------------------------------------------------------------------------------


def announcement(**changes: Any) -> Announcement:
    base: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "client_id": str(uuid.uuid4()),
        "body": "Soup",
        "status": AnnouncementStatus.CONFIRMED,
        "recipients": 3,
        "sent": 0,
        "delivered": 0,
        "failed": 0,
        "created_at": NOW,
        "confirmed_at": NOW,
        "completed_at": None,
        "stopped": 0,
    }
    return Announcement(**{**base, **changes})


def test_a_confirmed_announcement_is_sending_until_every_recipient_is_final() -> None:
    first = progress(announcement(), CountChanges(sent=1, delivered=1))
    assert (first.status, first.completes) == (AnnouncementStatus.SENDING, False)
    assert (first.counts.sent, first.counts.delivered) == (1, 1)
    queued = progress(announcement(status=AnnouncementStatus.SENDING, sent=1), CountChanges())
    assert (queued.status, queued.completes) == (AnnouncementStatus.SENDING, False)


def test_it_completes_once_when_delivered_failed_and_held_back_reach_the_recipients() -> None:
    before = announcement(status=AnnouncementStatus.SENDING, sent=1, delivered=1, failed=1)
    done = progress(before, CountChanges(stopped=1))
    assert (done.status, done.completes, done.counts.done) == (AnnouncementStatus.SENT, True, True)
    completed = announcement(
        status=AnnouncementStatus.SENT, sent=2, delivered=2, failed=1, completed_at=NOW
    )
    again = progress(completed, CountChanges(sent=1))
    assert (again.status, again.completes) == (AnnouncementStatus.SENT, False)


def test_it_fails_when_no_copy_was_delivered_and_one_failed() -> None:
    all_failed = progress(announcement(recipients=2, failed=1), CountChanges(failed=1))
    assert (all_failed.status, all_failed.completes) == (AnnouncementStatus.FAILED, True)
    all_held = progress(announcement(recipients=2, stopped=1), CountChanges(stopped=1))
    assert (all_held.status, all_held.completes) == (AnnouncementStatus.SENT, True)
    some = progress(announcement(recipients=2, delivered=1, sent=1), CountChanges(failed=1))
    assert some.status is AnnouncementStatus.SENT


def test_a_held_copy_keeps_the_announcement_sending_until_it_is_out() -> None:
    waiting = announcement(status=AnnouncementStatus.SENDING, recipients=2, sent=1, delivered=1)
    held = progress(waiting, CountChanges(held=1))
    assert (held.status, held.completes, held.counts.held) == (
        AnnouncementStatus.SENDING,
        False,
        1,
    )
    released = announcement(
        status=AnnouncementStatus.SENDING, recipients=2, sent=1, delivered=1, held=1
    )
    queued = progress(released, CountChanges(held=-1))
    assert (queued.completes, queued.counts.held) == (False, 0)
    delivered = progress(released, CountChanges(sent=1, delivered=1, held=-1))
    assert (delivered.status, delivered.completes) == (AnnouncementStatus.SENT, True)


@pytest.mark.parametrize(
    ("keyword", "stored"),
    [
        ("pizza", "PIZZA"),
        (" Pizza2Go ", "PIZZA2GO"),
        ("ab", "AB"),
        ("a" * 20, "A" * 20),
        ("", None),
    ],
)
def test_a_clients_keyword_is_kept_in_capitals(keyword: str, stored: str | None) -> None:
    assert check_keyword(keyword) == stored


@pytest.mark.parametrize(
    "keyword", ["a", "a" * 21, "two words", "piz-za", "café", "stop", "Help", "YES", "join", "lang"]
)
def test_a_keyword_is_2_to_20_letters_or_digits_and_no_word_of_the_dialogue(keyword: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_keyword(keyword)
    assert refused.value.field == "keyword"
