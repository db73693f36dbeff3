"""The SMS notices of memberships, clients and plans, each written as one ``sms.outbound``
event to the consumers' outbox in the handler's transaction: once per triggering event (the
consumer loop records handled event ids), and sent once (the event's idempotency key).

| event | to | text |
|---|---|---|
| ``user.membership.joined`` | the subscriber | ``membership.welcome`` |
| ``user.membership.*`` | the client | ``membership.{new_subscriber,subscriber_left,digest}`` |
| ``user.client.created`` | the client | ``client.welcome`` |
| ``product.plan-subscription.activated`` | the client | ``plan.activated`` |
| ``product.plan-subscription.updated`` (past due) | the client | ``plan.payment_failed`` |
| ``product.plan-subscription.canceled`` | the client | ``plan.canceled`` |
| ``product.plan-subscription.trial-ending`` | the client | ``plan.trial_ending`` (once per trial) |
| ``user.announcement.completed`` | the client | ``announcement.done`` (once per announcement) |
| ``user.scheduled-announcement.refused`` | the client | ``schedule.refused.*`` (per schedule) |

A notice of a business fact is keyed by the fact, not by the event that reported it: a
period's failed payment texts once, however many events say so (:func:`payment_failed_key`).
A subscriber who stops (``user.membership.stopped``) gets nothing: a number that texted STOP
gets no more messages; their client hears of it. The client hears of joins and leaves at most
once an interval (``CLIENT_DIGEST_INTERVAL_SECONDS``, :mod:`nudges_consumers.domain.client_digest`):
the first change after a quiet interval at once, with the count the event carries (the
client's active subscribers as of that change); the changes after it wait in
``client_digests``, written in the handler's transaction with the event's id (so an event
delivered twice counts once, and nothing waits in memory), for one digest that
:mod:`nudges_consumers.service_layer.client_digests` sends when the interval is up. Texts are
rendered in the recipient's language; numbers travel encrypted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from nudges_consumers.adapters import repository
from nudges_consumers.bootstrap import Deps
from nudges_consumers.domain.client_digest import Change, NoticeKind, SubscribersNotice
from nudges_kit import localization as texts
from nudges_kit.consumer import EventConsumer, HandlerContext, PermanentError
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import product, sms, user
from nudges_kit.localization import LocalizationError, LocalizationUnavailable, ParamValue
from nudges_kit.logging import get_logger
from nudges_kit.operations import EntitiesVars, Representation
from nudges_kit.operations import product as product_ops
from nudges_kit.operations import user as user_ops
from nudges_kit.operations.user import Contact
from nudges_kit.outbox import add_event
from nudges_kit.sms_text import first_words

log = get_logger(__name__)

SUBSCRIBER_GROUP = "notify-subscribers"
CLIENT_GROUP = "notify-clients"

# --- reads ---------------------------------------------------------------------------------


async def client_profile(deps: Deps, client_id: UUID) -> user_ops.ClientProfile | None:
    """The client's name, language and count of subscribers (None: no such client)."""
    return await deps.subgraphs.call(
        user_ops.client_profile, user_ops.ClientVars(id=str(client_id))
    )


async def client_contact(deps: Deps, client_id: UUID) -> Contact | None:
    """The number of the client's own phone (UserApi's ``contact`` of its user)."""
    return await deps.subgraphs.call(
        user_ops.user_contact, user_ops.UserIdVars(user_id=str(client_id))
    )


async def active_member(deps: Deps, client_id: UUID, subscriber_id: UUID) -> Contact | None:
    """The subscriber's number while their membership of the client is active, else None."""
    found = await deps.subgraphs.call(
        user_ops.active_members,
        user_ops.ActiveMembersVars(client_id=str(client_id), subscriber_ids=[str(subscriber_id)]),
    )
    if not found.recipients:
        return None
    member = found.recipients[0]
    return Contact(locale=member.locale, phone_ciphertext=member.phone_ciphertext)


async def plan_name(deps: Deps, price_tier_id: UUID) -> str:
    """The name of the plan ``price_tier_id`` belongs to."""
    found = await deps.subgraphs.call(
        product_ops.price_tier_plan,
        EntitiesVars(representations=[Representation.of("PriceTier", price_tier_id)]),
    )
    if not found or found[0] is None:
        raise PermanentError(f"price tier {price_tier_id} not found")
    return found[0].plan.name


# --- writing a notice -------------------------------------------------------------------


async def notify(
    deps: Deps,
    conn: asyncpg.Connection,
    to: Contact,
    recipient_id: UUID,
    message: texts.Message,
    idempotency_key: str,
    **params: ParamValue,
) -> None:
    """Render ``message`` in the recipient's language and queue it, in the transaction."""
    try:
        body = await deps.localization.render(message, to.locale, **params)
    except LocalizationUnavailable:
        raise
    except LocalizationError as exc:
        raise PermanentError(f"{message.key} cannot be rendered: {exc}") from exc
    await add_event(
        conn,
        sms.sms_outbound,
        str(recipient_id),
        sms.OutboundSmsData(
            to_ciphertext=to.phone_ciphertext, body=body, idempotency_key=idempotency_key
        ),
    )
    log.info("notice queued", message=message.key, idempotency_key=idempotency_key)


async def _notify_client(
    deps: Deps,
    conn: asyncpg.Connection,
    client_id: UUID,
    message: texts.Message,
    idempotency_key: str,
    locale: str | None = None,
    **params: ParamValue,
) -> None:
    contact = await client_contact(deps, client_id)
    if contact is None:
        log.warning("client without a contact, notice dropped", client_id=str(client_id))
        return
    if locale is not None:
        contact = contact.model_copy(update={"locale": locale})
    await notify(deps, conn, contact, client_id, message, idempotency_key, **params)


# --- the handlers ------------------------------------------------------------------------


async def welcome_subscriber(
    deps: Deps, envelope: Envelope, data: user.MembershipData, conn: asyncpg.Connection
) -> None:
    """``membership.welcome`` to a new subscriber, unless they stopped since."""
    client = await client_profile(deps, data.client_id)
    member = await active_member(deps, data.client_id, data.subscriber_id)
    if client is None or member is None:
        return
    await notify(
        deps,
        conn,
        member,
        data.subscriber_id,
        texts.MEMBERSHIP_WELCOME,
        f"membership.welcome:{envelope.id}",
        client_name=client.name,
    )


#: How the client hears of each membership event (a restart is a join).
_CHANGES = {
    user.membership_joined.name: Change.JOINED,
    user.membership_restarted.name: Change.JOINED,
    user.membership_stopped.name: Change.LEFT,
}

_NOTICE_MESSAGES = {
    NoticeKind.NEW_SUBSCRIBER: texts.MEMBERSHIP_NEW_SUBSCRIBER,
    NoticeKind.SUBSCRIBER_LEFT: texts.MEMBERSHIP_SUBSCRIBER_LEFT,
    NoticeKind.DIGEST: texts.MEMBERSHIP_DIGEST,
}


def digest_interval(deps: Deps) -> timedelta:
    """The least time between two notices of joins and leaves to one client."""
    return timedelta(seconds=deps.settings.client_digest_interval_seconds)


async def tell_membership_notice(
    deps: Deps, conn: asyncpg.Connection, client_id: UUID, notice: SubscribersNotice, locale: str
) -> None:
    """Queue ``notice`` of the client's joins and leaves, in the transaction."""
    params: dict[str, ParamValue] = {"count": notice.subscribers}
    if notice.kind is NoticeKind.DIGEST:
        params |= {"joined": notice.joined, "left": notice.left}
    await _notify_client(
        deps,
        conn,
        client_id,
        _NOTICE_MESSAGES[notice.kind],
        notice.idempotency_key,
        locale=locale,
        **params,
    )


async def tell_client_of_membership(
    deps: Deps, envelope: Envelope, data: user.MembershipData, conn: asyncpg.Connection
) -> None:
    """A subscriber joined, came back or left: told to the client at once when the interval
    since their last such notice is up, else added to their pending digest."""
    client = await client_profile(deps, data.client_id)
    if client is None:
        return
    # Events published before they carried the count: the count now is the best there is.
    subscribers = (
        data.active_subscribers if data.active_subscribers is not None else client.subscriber_count
    )
    digest = await repository.digest_locked(conn, data.client_id)
    # One client's events come in order (keyed by the client): the latest count is the last.
    digest = digest.with_change(_CHANGES[envelope.type], subscribers)
    now = datetime.now(UTC)
    if digest.due(now, digest_interval(deps)):
        notice = digest.notice(str(data.client_id))
        await tell_membership_notice(deps, conn, data.client_id, notice, client.locale)
        digest = digest.told(now)
    await repository.save_digest(conn, data.client_id, digest)


async def welcome_client(
    deps: Deps, envelope: Envelope, data: user.ClientData, conn: asyncpg.Connection
) -> None:
    """``client.welcome`` to a new client."""
    await _notify_client(
        deps,
        conn,
        data.client_id,
        texts.CLIENT_WELCOME,
        f"client.welcome:{envelope.id}",
        locale=data.locale,
        client_name=data.name,
    )


def payment_failed_key(data: product.PlanSubscriptionData) -> str:
    """The idempotency key of the one ``plan.payment_failed`` notice of a billing period: the
    fact (subscription, period start, kind), not the event. A failed invoice and Stripe's
    subscription update each report it, and may disagree on when the period ends."""
    start = (
        data.current_period_start.astimezone(UTC).isoformat() if data.current_period_start else ""
    )
    return f"plan.payment_failed:{data.plan_subscription_id}:{start}"


async def tell_client_of_plan(
    deps: Deps, envelope: Envelope, data: product.PlanSubscriptionData, conn: asyncpg.Connection
) -> None:
    """The plan activated, a payment failed (past due), or the plan ended."""
    if envelope.type == product.plan_subscription_activated.name:
        message, key = texts.PLAN_ACTIVATED, f"plan.activated:{data.plan_subscription_id}"
    elif envelope.type == product.plan_subscription_canceled.name:
        message, key = texts.PLAN_CANCELED, f"plan.canceled:{data.plan_subscription_id}"
    elif data.status == "past_due":
        message = texts.PLAN_PAYMENT_FAILED
        key = payment_failed_key(data)
    else:
        return
    client = await client_profile(deps, data.client_id)
    await _notify_client(
        deps,
        conn,
        data.client_id,
        message,
        key,
        locale=client.locale if client else None,
        plan_name=await plan_name(deps, data.price_tier_id),
    )


def trial_ending_key(data: product.PlanSubscriptionData) -> str:
    """The idempotency key of the one ``plan.trial_ending`` notice of a trial: the
    subscription and the trial's end (a trial Stripe extends is a new fact)."""
    end = data.trial_ends_at.astimezone(UTC).isoformat() if data.trial_ends_at else ""
    return f"plan.trial_ending:{data.plan_subscription_id}:{end}"


async def tell_client_trial_ends(
    deps: Deps, envelope: Envelope, data: product.PlanSubscriptionData, conn: asyncpg.Connection
) -> None:
    """``plan.trial_ending``: the free trial ends in a few days, then the first payment."""
    if data.status == "canceled" or data.trial_ends_at is None:
        return
    left = data.trial_ends_at - datetime.now(UTC)
    days = max(1, -(-left // timedelta(days=1)))  # whole days, rounded up
    client = await client_profile(deps, data.client_id)
    await _notify_client(
        deps,
        conn,
        data.client_id,
        texts.PLAN_TRIAL_ENDING,
        trial_ending_key(data),
        locale=client.locale if client else None,
        plan_name=await plan_name(deps, data.price_tier_id),
        count=days,
    )


async def tell_client_announcement_done(
    deps: Deps, envelope: Envelope, data: user.AnnouncementCompletedData, conn: asyncpg.Connection
) -> None:
    """``announcement.done`` to the client, with the counts UserApi completed it with; once
    per announcement (the key), however many times the completion is delivered."""
    client = await client_profile(deps, data.client_id)
    await _notify_client(
        deps,
        conn,
        data.client_id,
        texts.ANNOUNCEMENT_DONE,
        f"announcement.done:{data.announcement_id}",
        locale=client.locale if client else None,
        sent=data.sent,
        delivered=data.delivered,
        failed=data.failed,
    )


#: The notice of each reason a scheduled announcement was refused at its time.
_SCHEDULE_REFUSALS = {
    "no_active_plan": texts.SCHEDULE_REFUSED_NO_ACTIVE_PLAN,
    "no_subscribers": texts.SCHEDULE_REFUSED_NO_SUBSCRIBERS,
    "too_long": texts.SCHEDULE_REFUSED_TOO_LONG,
    "allowance_exceeded": texts.SCHEDULE_REFUSED_ALLOWANCE_EXCEEDED,
}


async def tell_client_schedule_refused(
    deps: Deps, envelope: Envelope, data: user.ScheduleRefusedData, conn: asyncpg.Connection
) -> None:
    """``schedule.refused.<reason>`` to the client, quoting the first words of the
    announcement; once per schedule (the key), however many times the refusal is delivered."""
    message = _SCHEDULE_REFUSALS.get(data.refusal)
    if message is None:
        raise PermanentError(f"unknown refusal {data.refusal!r}")
    client = await client_profile(deps, data.client_id)
    await _notify_client(
        deps,
        conn,
        data.client_id,
        message,
        f"schedule.refused:{data.schedule_id}",
        locale=client.locale if client else None,
        start=first_words(data.body),
    )


Notice = Callable[[Deps, Envelope, Any, asyncpg.Connection], Awaitable[None]]


def _handler(deps: Deps, notice: Notice) -> Any:
    async def handle(envelope: Envelope, data: Any, ctx: HandlerContext) -> None:
        await notice(deps, envelope, data, ctx.conn)

    return handle


def consumers(deps: Deps) -> list[EventConsumer]:
    """Two groups, so that a notice to a client never holds back one to a subscriber."""
    common: dict[str, Any] = {
        "settings": deps.settings,
        "pool": deps.pool,
        "max_attempts": deps.settings.max_attempts,
    }
    return [
        EventConsumer(
            group=SUBSCRIBER_GROUP,
            handlers={user.membership_joined: _handler(deps, welcome_subscriber)},
            **common,
        ),
        EventConsumer(
            group=CLIENT_GROUP,
            handlers={
                user.membership_joined: _handler(deps, tell_client_of_membership),
                user.membership_restarted: _handler(deps, tell_client_of_membership),
                user.membership_stopped: _handler(deps, tell_client_of_membership),
                user.client_created: _handler(deps, welcome_client),
                product.plan_subscription_activated: _handler(deps, tell_client_of_plan),
                product.plan_subscription_updated: _handler(deps, tell_client_of_plan),
                product.plan_subscription_canceled: _handler(deps, tell_client_of_plan),
                product.plan_subscription_trial_ending: _handler(deps, tell_client_trial_ends),
                user.announcement_completed: _handler(deps, tell_client_announcement_done),
                user.schedule_refused: _handler(deps, tell_client_schedule_refused),
            },
            **common,
        ),
    ]
