"""The fan-out of a confirmed announcement (``user.announcement.confirmed``): one copy to each
active subscriber of the client, in the subscriber's language.

The handler pages through UserApi's ``announcementRecipients``, renders the announcement once
per language among them (``announcement.body``, the client's name and text, then the
``announcement.opt_out`` line, each language rendered when a page first brings it), and
writes one ``sms.announcement-batch`` work item per chunk of recipients to the consumers'
outbox, saying whether the client keeps quiet hours (the sender holds copies then). Each
page's work items are committed as soon as the page is read (on a connection of their own),
so that sending starts while the rest of the audience is listed; a work item's
event id is derived from its announcement and its recipients, so a confirmation handled again
after a crash writes the same work items again, which the outbox (one row per event id) and
the senders (handled event ids) keep once. Should the audience read differently the second
time, the work items may overlap, and ``sms_outbound`` still sends each recipient's copy once
(its ledger is by recipient). A confirmation handled to the end is not handled again (handled
event ids). Chunks are keyed by announcement and position, so they spread over the partitions
and every sending worker takes a share.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from nudges_consumers.bootstrap import Deps
from nudges_consumers.domain.work_items import BATCH_SIZE, plan_work_items
from nudges_kit.consumer import EventConsumer, HandlerContext, PermanentError
from nudges_kit.db import create_pool
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import fanout, user
from nudges_kit.localization import (
    ANNOUNCEMENT_BODY,
    ANNOUNCEMENT_OPT_OUT,
    LocalizationError,
    LocalizationUnavailable,
)
from nudges_kit.logging import get_logger
from nudges_kit.operations import EntitiesVars, Representation
from nudges_kit.operations import user as user_ops
from nudges_kit.outbox import add_envelope
from nudges_kit.sms_text import compose_announcement

log = get_logger(__name__)

GROUP = "fan-out"
#: Recipients per page of ``announcementRecipients`` (UserApi allows up to 5,000).
PAGE_SIZE = 5000
#: Recipients of the first page: one work item, so that sending starts before UserApi has
#: listed a whole page (at 20,000 recipients the first work item was written 0.37 s after
#: the confirmation arrived with a first page of 5,000; see bench/README.md).
FIRST_PAGE_SIZE = BATCH_SIZE


async def audience_pages(
    deps: Deps, client_id: UUID, announcement_id: UUID
) -> AsyncIterator[list[fanout.BatchRecipient]]:
    """The announcement's audience, page by page, in subscriber-id order: the client's
    subscribers active when it was confirmed, including those who stopped since (the sender
    holds their copies back and records them as stopped, so that the counts still add up to
    the audience).

    The next page is asked for while the current one is read, so that UserApi writes a page
    while this process reads the one before; the first page is one work item's worth."""

    async def page_after(after: str | None) -> user_ops.AudiencePage:
        return await deps.subgraphs.call(
            user_ops.audience_page,
            user_ops.AudiencePageVars(
                client_id=str(client_id),
                announcement_id=str(announcement_id),
                first=FIRST_PAGE_SIZE if after is None else PAGE_SIZE,
                after=after,
            ),
        )

    asked = asyncio.create_task(page_after(None))
    try:
        while True:
            page = await asked
            after = page.next_after
            if after is not None:
                asked = asyncio.create_task(page_after(after))
            # Validated as the declared result already: not validated a second time.
            yield [
                fanout.BatchRecipient.model_construct(
                    subscriber_id=UUID(r.subscriber_id),
                    locale=r.locale,
                    to_ciphertext=r.phone_ciphertext,
                )
                for r in page.recipients
            ]
            if after is None:
                return
    finally:
        asked.cancel()


async def recipients_of(
    deps: Deps, client_id: UUID, announcement_id: UUID
) -> list[fanout.BatchRecipient]:
    """The announcement's whole audience (:func:`audience_pages`)."""
    return [r async for page in audience_pages(deps, client_id, announcement_id) for r in page]


async def texts_by_locale(
    deps: Deps, locales: list[str], client_name: str, body: str
) -> dict[str, str]:
    """The whole SMS in each locale, each rendered once."""
    try:
        bodies = await deps.localization.render_many(
            ANNOUNCEMENT_BODY, locales, client_name=client_name, body=body
        )
        opt_outs = await deps.localization.render_many(ANNOUNCEMENT_OPT_OUT, locales)
    except LocalizationUnavailable:
        raise
    except LocalizationError as exc:
        raise PermanentError(f"the announcement cannot be rendered: {exc}") from exc
    return {locale: compose_announcement(bodies[locale], opt_outs[locale]) for locale in locales}


async def fan_out(deps: Deps, data: user.AnnouncementConfirmedData) -> int:
    """Write the work items of one announcement, page by page; returns how many."""
    found = await deps.subgraphs.call(
        user_ops.announcement_to_fan_out,
        EntitiesVars(representations=[Representation.of("Announcement", data.announcement_id)]),
    )
    announcement = found[0] if found else None
    if announcement is None:
        raise PermanentError(f"announcement {data.announcement_id} not found")
    texts: dict[str, str] = {}
    batches = 0
    listed = 0
    work_items = await create_pool(deps.settings.database_url(), min_size=1, max_size=1)
    try:
        async for page in audience_pages(deps, data.client_id, data.announcement_id):
            if new_locales := sorted({r.locale for r in page} - texts.keys()):
                texts |= await texts_by_locale(
                    deps, new_locales, announcement.client.name, announcement.body
                )
            planned = plan_work_items(data.announcement_id, page, texts, first_batch=batches)
            async with work_items.acquire() as conn, conn.transaction():
                for planned_item in planned:
                    item = fanout.AnnouncementBatchData(
                        announcement_id=data.announcement_id,
                        client_id=data.client_id,
                        batch=planned_item.batch,
                        texts=planned_item.texts,
                        recipients=planned_item.recipients,
                        status_callback=deps.settings.twilio_status_callback_url,
                        quiet_hours=announcement.client.quiet_hours,
                    )
                    await add_envelope(
                        conn,
                        fanout.announcement_batch.topic,
                        Envelope(
                            id=planned_item.event_id,
                            type=fanout.announcement_batch.name,
                            version=fanout.announcement_batch.version,
                            key=planned_item.key,
                            data=item.model_dump(mode="json"),
                        ),
                    )
            batches += len(planned)
            listed += len(page)
    finally:
        await work_items.close()
    if listed != data.recipients:
        log.warning(
            "audience differs from the count at the confirmation",
            announcement_id=str(data.announcement_id),
            confirmed_for=data.recipients,
            active_now=listed,
        )
    log.info(
        "announcement fanned out",
        announcement_id=str(data.announcement_id),
        recipients=listed,
        locales=sorted(texts),
        batches=batches,
    )
    return batches


def consumers(deps: Deps) -> list[EventConsumer]:
    """The fan-out of confirmed announcements."""

    async def confirmed(envelope: Envelope, data: Any, ctx: HandlerContext) -> None:
        await fan_out(deps, data)

    return [
        EventConsumer(
            group=GROUP,
            settings=deps.settings,
            pool=deps.pool,
            handlers={user.announcement_confirmed: confirmed},
            max_attempts=deps.settings.max_attempts,
        )
    ]
