"""Message usage against a client's plan allowance: recorded once per completed announcement
(``user.announcement.completed``), read before the SMS dialogue sends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from nudges_product.adapters.repository import ProductRepository
from nudges_product.domain.allowance import (
    DEFAULT_GRACE_DAYS,
    Allowance,
    compute_allowance,
    messages_to_record,
    usage_period,
)
from nudges_product.service_layer.unit_of_work import unit_of_work


async def allowances(
    db: Any, client_ids: Sequence[UUID], grace_days: int = DEFAULT_GRACE_DAYS
) -> list[Allowance]:
    """The allowance of each client, in the order asked (four queries, however many); a
    past-due plan grants sending for ``grace_days`` from its first failed payment."""
    repository = ProductRepository(db)
    now = datetime.now(UTC)
    subscriptions = await repository.current_subscriptions(client_ids)
    tiers = await repository.tiers([s.price_tier_id for s in subscriptions.values()])
    features = await repository.features(list({t.plan_id for t in tiers.values()}))
    periods = {
        client_id: usage_period(subscriptions.get(client_id), now)[0] for client_id in client_ids
    }
    used = await repository.usage(periods.items())
    result = []
    for client_id in client_ids:
        subscription = subscriptions.get(client_id)
        tier = tiers.get(subscription.price_tier_id) if subscription else None
        result.append(
            compute_allowance(
                subscription,
                features.get(tier.plan_id) if tier else None,
                used[(client_id, periods[client_id])],
                now,
                grace_days,
            )
        )
    return result


async def record_usage(db: Any, client_id: UUID, messages: int, idempotency_key: str) -> Allowance:
    """Add ``messages`` to the client's current period, once per ``idempotency_key``; returns
    the allowance after it. ``db`` is a pool or a connection in a transaction (a consumer's)."""
    messages, key = messages_to_record(messages, idempotency_key)
    async with unit_of_work(db) as uow:
        current = (await uow.products.current_subscriptions([client_id])).get(client_id)
        period_start, _ = usage_period(current, datetime.now(UTC))
        if await uow.products.claim_usage_key(key, client_id, period_start, messages):
            await uow.products.add_usage(client_id, period_start, messages)
    return (await allowances(db, [client_id]))[0]
