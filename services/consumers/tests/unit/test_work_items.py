"""Batching a confirmed announcement's audience into work items."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from nudges_consumers.domain.work_items import BATCH_SIZE, plan_work_items, work_item_id
from nudges_kit.events.catalog.fanout import BatchRecipient

ANNOUNCEMENT = UUID("0190a000-0000-7000-8000-000000000001")
TEXTS = {"en": "Gym: class at 6\nReply STOP to opt out", "es": "Gym: clase a las 6\nSTOP"}


def recipients(count: int, locale: str = "en") -> list[BatchRecipient]:
    return [
        BatchRecipient(subscriber_id=uuid4(), locale=locale, to_ciphertext=f"c{i}")
        for i in range(count)
    ]


def test_the_audience_is_cut_in_batches_in_order_the_last_one_shorter() -> None:
    audience = recipients(1234)
    planned = plan_work_items(ANNOUNCEMENT, audience, TEXTS)
    assert [len(p.recipients) for p in planned] == [BATCH_SIZE, BATCH_SIZE, 234]
    assert [r for p in planned for r in p.recipients] == audience
    assert [p.batch for p in planned] == [0, 1, 2]
    assert [p.key for p in planned] == [f"{ANNOUNCEMENT}:{n}" for n in range(3)]


def test_a_later_page_numbers_its_work_items_after_the_earlier_ones() -> None:
    planned = plan_work_items(ANNOUNCEMENT, recipients(5), TEXTS, first_batch=7, batch_size=2)
    assert [(p.batch, len(p.recipients)) for p in planned] == [(7, 2), (8, 2), (9, 1)]
    assert planned[0].key == f"{ANNOUNCEMENT}:7"


def test_an_empty_page_makes_no_work_item() -> None:
    assert plan_work_items(ANNOUNCEMENT, [], TEXTS) == []


def test_a_work_item_carries_only_the_copies_of_its_recipients_locales() -> None:
    planned = plan_work_items(
        ANNOUNCEMENT, recipients(2, "en") + recipients(2, "es"), TEXTS, batch_size=2
    )
    assert [p.texts for p in planned] == [{"en": TEXTS["en"]}, {"es": TEXTS["es"]}]


def test_a_recipient_whose_locale_has_no_copy_is_an_error_not_a_blank_sms() -> None:
    with pytest.raises(KeyError):
        plan_work_items(ANNOUNCEMENT, recipients(1, "fr"), TEXTS)


def test_the_same_recipients_always_make_the_same_event_id() -> None:
    audience = recipients(600)
    first = plan_work_items(ANNOUNCEMENT, audience, TEXTS)
    again = plan_work_items(ANNOUNCEMENT, audience, TEXTS)
    assert [p.event_id for p in first] == [p.event_id for p in again]
    assert first[0].event_id == work_item_id(ANNOUNCEMENT, audience[:BATCH_SIZE])
    # Other recipients, or the same ones for another announcement, make other ids.
    assert first[0].event_id != first[1].event_id
    assert work_item_id(uuid4(), audience[:BATCH_SIZE]) != first[0].event_id


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        plan_work_items(ANNOUNCEMENT, recipients(1), TEXTS, batch_size=0)
