"""The request's DataLoaders: every nested field loads through one, so a list of N things
costs one query per kind of thing, not per thing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar
from uuid import UUID

import asyncpg
import strawberry
from strawberry.dataloader import DataLoader

from nudges_kit.graphql import context_of
from nudges_product.domain.allowance import DEFAULT_GRACE_DAYS, Allowance
from nudges_product.domain.model import (
    DiscountCode,
    Plan,
    PlanFeatures,
    PlanSubscription,
    PriceTier,
)
from nudges_product.service_layer import queries, usage

K = TypeVar("K")
V = TypeVar("V")


def pool_of(info: strawberry.Info) -> asyncpg.Pool:
    """The service's pool, as the request's context carries it."""
    pool = context_of(info).pool
    if pool is None:
        raise RuntimeError("the database pool is not open")
    return pool


def _loader(
    info: strawberry.Info,
    name: str,
    batch: Callable[[asyncpg.Pool, Sequence[K]], Awaitable[Sequence[V]]],
) -> DataLoader[K, V]:
    pool = pool_of(info)

    async def load(keys: list[K]) -> Sequence[V]:
        return await batch(pool, keys)

    return context_of(info).loader(name, lambda: DataLoader(load_fn=load))


def plans(info: strawberry.Info) -> DataLoader[UUID, Plan | None]:
    return _loader(info, "plans", queries.plans_by_id)


def features(info: strawberry.Info) -> DataLoader[UUID, PlanFeatures | None]:
    return _loader(info, "features", queries.features_by_plan)


def tiers(info: strawberry.Info) -> DataLoader[UUID, PriceTier | None]:
    return _loader(info, "tiers", queries.tiers_by_id)


def tiers_of_plan(
    info: strawberry.Info, include_archived: bool
) -> DataLoader[UUID, list[PriceTier]]:
    async def batch(pool: asyncpg.Pool, ids: Sequence[UUID]) -> list[list[PriceTier]]:
        return await queries.tiers_by_plan(pool, ids, include_archived=include_archived)

    return _loader(info, f"tiers_of_plan:{include_archived}", batch)


def subscriptions(info: strawberry.Info) -> DataLoader[UUID, PlanSubscription | None]:
    return _loader(info, "subscriptions", queries.subscriptions_by_id)


def current_subscriptions(info: strawberry.Info) -> DataLoader[UUID, PlanSubscription | None]:
    return _loader(info, "current_subscriptions", queries.current_subscriptions)


def discounts(info: strawberry.Info) -> DataLoader[UUID, DiscountCode | None]:
    return _loader(info, "discounts", queries.discounts_by_id)


def allowances(info: strawberry.Info) -> DataLoader[UUID, Allowance]:
    grace_days = getattr(context_of(info).settings, "past_due_grace_days", DEFAULT_GRACE_DAYS)

    async def batch(pool: asyncpg.Pool, ids: Sequence[UUID]) -> list[Allowance]:
        return await usage.allowances(pool, ids, grace_days)

    return _loader(info, "allowances", batch)
