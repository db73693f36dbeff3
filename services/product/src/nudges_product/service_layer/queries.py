"""The read side: pages of lists, lookups by id in batches (for DataLoaders and federation),
and the admin dashboard's totals. Reads go to the pool, outside any transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

import asyncpg

from nudges_product.adapters.repository import Position, ProductRepository
from nudges_product.domain.model import (
    DiscountCode,
    Plan,
    PlanFeatures,
    PlanSubscription,
    PriceTier,
)
from nudges_product.domain.money import Money, monthly_recurring_revenue

T = TypeVar("T")


@dataclass(frozen=True)
class Slice(Generic[T]):
    """One page of a list in creation order, whether more follow, and the size of the list."""

    items: list[T]
    has_next: bool
    total: int


def _slice(rows: list[T], limit: int, total: int) -> Slice[T]:
    return Slice(rows[:limit], len(rows) > limit, total)


async def plan_page(
    pool: asyncpg.Pool, *, active_only: bool, after: Position | None, limit: int
) -> Slice[Plan]:
    repository = ProductRepository(pool)
    rows = await repository.plan_page(active_only=active_only, after=after, limit=limit + 1)
    return _slice(rows, limit, await repository.count_plans(active_only=active_only))


async def discount_page(
    pool: asyncpg.Pool, *, include_archived: bool, after: Position | None, limit: int
) -> Slice[DiscountCode]:
    repository = ProductRepository(pool)
    rows = await repository.discount_page(
        include_archived=include_archived, after=after, limit=limit + 1
    )
    return _slice(rows, limit, await repository.count_discounts(include_archived=include_archived))


async def subscription_page(
    pool: asyncpg.Pool,
    *,
    status: str | None,
    client_id: UUID | None,
    after: Position | None,
    limit: int,
) -> Slice[PlanSubscription]:
    repository = ProductRepository(pool)
    rows = await repository.subscription_page(
        status=status, client_id=client_id, after=after, limit=limit + 1
    )
    total = await repository.count_subscriptions(status=status, client_id=client_id)
    return _slice(rows, limit, total)


async def plans_by_id(pool: asyncpg.Pool, ids: Sequence[UUID]) -> list[Plan | None]:
    found = await ProductRepository(pool).plans(ids)
    return [found.get(i) for i in ids]


async def features_by_plan(pool: asyncpg.Pool, ids: Sequence[UUID]) -> list[PlanFeatures | None]:
    found = await ProductRepository(pool).features(ids)
    return [found.get(i) for i in ids]


async def tiers_by_id(pool: asyncpg.Pool, ids: Sequence[UUID]) -> list[PriceTier | None]:
    found = await ProductRepository(pool).tiers(ids)
    return [found.get(i) for i in ids]


async def tiers_by_plan(
    pool: asyncpg.Pool, ids: Sequence[UUID], *, include_archived: bool
) -> list[list[PriceTier]]:
    found = await ProductRepository(pool).tiers_of_plans(ids, include_archived=include_archived)
    return [found[i] for i in ids]


async def subscriptions_by_id(
    pool: asyncpg.Pool, ids: Sequence[UUID]
) -> list[PlanSubscription | None]:
    found = await ProductRepository(pool).subscriptions(ids)
    return [found.get(i) for i in ids]


async def current_subscriptions(
    pool: asyncpg.Pool, client_ids: Sequence[UUID]
) -> list[PlanSubscription | None]:
    found = await ProductRepository(pool).current_subscriptions(client_ids)
    return [found.get(i) for i in client_ids]


async def discounts_by_id(pool: asyncpg.Pool, ids: Sequence[UUID]) -> list[DiscountCode | None]:
    found = await ProductRepository(pool).discounts(ids)
    return [found.get(i) for i in ids]


@dataclass(frozen=True)
class ProductTotals:
    """The admin dashboard's figures."""

    active_plans: int
    active_subscriptions: int
    past_due_subscriptions: int
    canceled_subscriptions: int
    monthly_recurring_revenue: list[Money]


async def product_totals(pool: asyncpg.Pool) -> ProductTotals:
    """Counts of plans and subscriptions, and MRR of active subscriptions per currency."""
    repository = ProductRepository(pool)
    counts = await repository.subscription_counts()
    return ProductTotals(
        active_plans=await repository.count_plans(active_only=True),
        active_subscriptions=counts.get("active", 0),
        past_due_subscriptions=counts.get("past_due", 0),
        canceled_subscriptions=counts.get("canceled", 0),
        monthly_recurring_revenue=monthly_recurring_revenue(await repository.active_revenue()),
    )
