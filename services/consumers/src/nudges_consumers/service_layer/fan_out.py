"""The fan-out of a confirmed announcement (``user.announcement.confirmed``): one copy to each
active subscriber of the client, in the subscriber's language.

The handler pages through UserApi's ``announcementRecipients``, renders the announcement once
per language among them (``announcement.body``, the client's name and text, then the
``announcement.opt_out`` line: two ``RenderMany`` calls whatever the audience), and writes one
``sms.announcement-batch`` work item per chunk of recipients to the consumers' outbox, in the
handler's transaction: a redelivered confirmation writes nothing more (handled event ids),
and a crash before the commit writes nothing at all. Chunks are keyed by announcement and
position, so they spread over the partitions and every sending worker takes a share;
``sms_outbound`` sends each recipient's copy once.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from nudges_consumers.bootstrap import Deps
from nudges_kit.consumer import EventConsumer, HandlerContext, PermanentError
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import fanout, user
from nudges_kit.localization import (
    ANNOUNCEMENT_BODY,
    ANNOUNCEMENT_OPT_OUT,
    LocalizationError,
    LocalizationUnavailable,
)
from nudges_kit.logging import get_logger
from nudges_kit.outbox import add_event

log = get_logger(__name__)

GROUP = "fan-out"
#: Recipients per page of ``announcementRecipients`` (UserApi allows up to 5,000).
PAGE_SIZE = 1000
#: Recipients per work item.
BATCH_SIZE = 50

ANNOUNCEMENT = """
query($r: [_Any!]!) {
  _entities(representations: $r) { ... on Announcement { id body client { id name } } }
}"""
RECIPIENTS = """
query($c: ID!, $a: ID!, $first: Int!, $after: ID) {
  announcementRecipients(clientId: $c, announcementId: $a, first: $first, after: $after) {
    recipients { subscriberId locale phoneCiphertext }
    nextAfter
  }
}"""


def compose_announcement(body_line: str, opt_out_line: str) -> str:
    """The SMS a subscriber receives (the SMS dialogue counts the segments of the same)."""
    return f"{body_line}\n{opt_out_line}"


async def recipients_of(
    deps: Deps, client_id: UUID, announcement_id: UUID
) -> list[fanout.BatchRecipient]:
    """The announcement's audience, in subscriber-id order: the client's subscribers active
    when it was confirmed, including those who stopped since (the sender holds their copies
    back and records them as stopped, so that the counts still add up to the audience)."""
    found: list[fanout.BatchRecipient] = []
    after: str | None = None
    while True:
        page = (
            await deps.graph.user(
                RECIPIENTS,
                c=str(client_id),
                a=str(announcement_id),
                first=PAGE_SIZE,
                after=after,
            )
        )["announcementRecipients"]
        found.extend(
            fanout.BatchRecipient(
                subscriber_id=UUID(r["subscriberId"]),
                locale=r["locale"],
                to_ciphertext=r["phoneCiphertext"],
            )
            for r in page["recipients"]
        )
        after = page["nextAfter"]
        if after is None:
            return found


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


async def fan_out(
    deps: Deps, conn: Any, envelope: Envelope, data: user.AnnouncementConfirmedData
) -> int:
    """Write the work items of one announcement on ``conn``; returns how many."""
    found = await deps.graph.user(
        ANNOUNCEMENT, r=[{"__typename": "Announcement", "id": str(data.announcement_id)}]
    )
    announcement = found["_entities"][0]
    if not announcement:
        raise PermanentError(f"announcement {data.announcement_id} not found")
    recipients = await recipients_of(deps, data.client_id, data.announcement_id)
    if len(recipients) != data.recipients:
        log.warning(
            "audience differs from the count at the confirmation",
            announcement_id=str(data.announcement_id),
            confirmed_for=data.recipients,
            active_now=len(recipients),
        )
    locales = sorted({r.locale for r in recipients})
    texts = await texts_by_locale(
        deps, locales, announcement["client"]["name"], announcement["body"]
    )
    batches = 0
    for start in range(0, len(recipients), BATCH_SIZE):
        chunk = recipients[start : start + BATCH_SIZE]
        await add_event(
            conn,
            fanout.announcement_batch,
            f"{data.announcement_id}:{batches}",
            fanout.AnnouncementBatchData(
                announcement_id=data.announcement_id,
                client_id=data.client_id,
                batch=batches,
                texts={r.locale: texts[r.locale] for r in chunk},
                recipients=chunk,
                status_callback=deps.settings.twilio_status_callback_url,
            ),
        )
        batches += 1
    log.info(
        "announcement fanned out",
        announcement_id=str(data.announcement_id),
        recipients=len(recipients),
        locales=locales,
        batches=batches,
    )
    return batches


def consumers(deps: Deps) -> list[EventConsumer]:
    """The fan-out of confirmed announcements."""

    async def confirmed(envelope: Envelope, data: Any, ctx: HandlerContext) -> None:
        await fan_out(deps, ctx.conn, envelope, data)

    return [
        EventConsumer(
            group=GROUP,
            settings=deps.settings,
            pool=deps.pool,
            handlers={user.announcement_confirmed: confirmed},
            max_attempts=deps.settings.max_attempts,
        )
    ]
