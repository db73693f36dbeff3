"""How a confirmed announcement's audience becomes work items: chunks of recipients in the
order they were listed, each with an event id derived from its announcement and recipients
(a confirmation handled again writes the same work items again, which the outbox keeps once)
and a key of announcement and position (the work items spread over the partitions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID, uuid5

from nudges_kit.events.catalog import fanout

#: Recipients per work item (a page of the audience holds a whole number of them).
BATCH_SIZE = 500
#: The namespace of work items' event ids (a UUID of their announcement and recipients).
WORK_ITEM_IDS = UUID("6b1d54c4-1f0e-4a53-9d7c-5f0c0f6c2a61")


@dataclass(frozen=True)
class PlannedWorkItem:
    """One work item to write: its position among the announcement's work items, its event id
    and Kafka key, its recipients and the copy of each locale among them."""

    batch: int
    event_id: UUID
    key: str
    recipients: list[fanout.BatchRecipient]
    texts: dict[str, str]


def work_item_id(announcement_id: UUID, recipients: Sequence[fanout.BatchRecipient]) -> UUID:
    """The event id of the work item of ``recipients``: the same whenever it is written."""
    ids = ",".join(str(r.subscriber_id) for r in recipients)
    return uuid5(WORK_ITEM_IDS, f"{announcement_id}:{ids}")


def plan_work_items(
    announcement_id: UUID,
    recipients: Sequence[fanout.BatchRecipient],
    texts: Mapping[str, str],
    first_batch: int = 0,
    batch_size: int = BATCH_SIZE,
) -> list[PlannedWorkItem]:
    """``recipients`` in chunks of ``batch_size`` (the last one shorter), numbered from
    ``first_batch``, each carrying only the copies of its recipients' locales (``texts`` must
    hold every one of them)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    planned = []
    for offset, start in enumerate(range(0, len(recipients), batch_size)):
        chunk = list(recipients[start : start + batch_size])
        batch = first_batch + offset
        planned.append(
            PlannedWorkItem(
                batch=batch,
                event_id=work_item_id(announcement_id, chunk),
                key=f"{announcement_id}:{batch}",
                recipients=chunk,
                texts={r.locale: texts[r.locale] for r in chunk},
            )
        )
    return planned
