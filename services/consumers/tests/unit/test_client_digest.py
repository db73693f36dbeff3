"""The client hears of subscribers joining and leaving at most once an interval: the first
change after a quiet interval at once, the rest in one digest when the interval is up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nudges_consumers.domain.client_digest import Change, ClientDigest, NoticeKind

HOUR = timedelta(hours=1)
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
CLIENT = "0193a3c2-0000-7000-8000-000000000001"


def test_the_first_change_ever_is_due_at_once_and_told_alone() -> None:
    digest = ClientDigest().with_change(Change.JOINED, 1)
    assert digest.due(T0, HOUR)
    notice = digest.notice(CLIENT)
    assert (notice.kind, notice.joined, notice.left, notice.subscribers) == (
        NoticeKind.NEW_SUBSCRIBER,
        1,
        0,
        1,
    )
    left = ClientDigest().with_change(Change.LEFT, 4).notice(CLIENT)
    assert (left.kind, left.subscribers) == (NoticeKind.SUBSCRIBER_LEFT, 4)


def test_changes_within_the_hour_wait_and_add_up_to_one_digest() -> None:
    told = ClientDigest().with_change(Change.JOINED, 1).told(T0)
    assert not told.pending
    digest = told
    for change, count in [
        (Change.JOINED, 2),
        (Change.JOINED, 3),
        (Change.LEFT, 2),
        (Change.JOINED, 3),
    ]:
        digest = digest.with_change(change, count)
        assert not digest.due(T0 + timedelta(minutes=59), HOUR)
    assert digest.due(T0 + HOUR, HOUR)
    notice = digest.notice(CLIENT)
    assert (notice.kind, notice.joined, notice.left, notice.subscribers) == (
        NoticeKind.DIGEST,
        3,
        1,
        3,
    )


def test_the_final_count_is_the_latest_changes_not_a_sum() -> None:
    digest = ClientDigest(last_notice_at=T0, subscribers=10)
    digest = digest.with_change(Change.LEFT, 9).with_change(Change.LEFT, 8)
    assert digest.notice(CLIENT).subscribers == 8
    assert digest.notice(CLIENT).kind is NoticeKind.DIGEST


def test_a_quiet_hour_with_nothing_pending_is_not_due() -> None:
    assert not ClientDigest(last_notice_at=T0).due(T0 + 5 * HOUR, HOUR)
    assert not ClientDigest().due(T0, HOUR)
    with pytest.raises(ValueError, match="nothing to tell"):
        ClientDigest().notice(CLIENT)


def test_a_change_after_a_quiet_hour_is_told_at_once() -> None:
    digest = ClientDigest(last_notice_at=T0, subscribers=3).with_change(Change.LEFT, 2)
    assert digest.due(T0 + HOUR + timedelta(seconds=1), HOUR)


def test_each_window_has_its_own_key_and_a_window_told_again_keeps_it() -> None:
    first = ClientDigest().with_change(Change.JOINED, 1)
    second = first.told(T0).with_change(Change.JOINED, 2)
    third = second.told(T0 + HOUR).with_change(Change.JOINED, 3)
    keys = [d.notice(CLIENT).idempotency_key for d in (first, second, third)]
    assert len(set(keys)) == 3
    assert all(CLIENT in key for key in keys)
    # The same window with one more change (an event handled after a rollback) keeps its key.
    assert second.with_change(Change.LEFT, 1).notice(CLIENT).idempotency_key == keys[1]


def test_a_zero_interval_tells_every_change() -> None:
    digest = ClientDigest()
    for count in range(1, 6):
        digest = digest.with_change(Change.JOINED, count)
        assert digest.due(T0, timedelta(0))
        assert digest.notice(CLIENT).subscribers == count
        digest = digest.told(T0)
