"""All SQL of productdb. A repository works on a connection (inside a use case's transaction)
or on the pool (reads); it returns domain values, never records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from nudges_product.domain.discounts import DiscountTerms
from nudges_product.domain.model import (
    DiscountCode,
    Plan,
    PlanFeatures,
    PlanSubscription,
    PriceTier,
)

#: The NOTIFY channel carrying the id of a plan whose fields or tiers changed.
PLAN_CHANGED_CHANNEL = "product_plan_changed"

#: A keyset position: the ``created_at`` and ``id`` of the last row of the previous page.
Position = tuple[datetime, UUID]

PLAN_COLUMNS = "id, name, description, icon_url, active, stripe_product_id, created_at, updated_at"
TIER_COLUMNS = (
    "id, plan_id, name, amount, currency, interval, status, version, replaces_price_tier_id,"
    " stripe_price_id, created_at, updated_at, trial_days"
)
SUBSCRIPTION_COLUMNS = (
    "id, client_id, price_tier_id, status, current_period_start, current_period_end,"
    " stripe_subscription_id, cancel_at_period_end, created_at, updated_at, past_due_since,"
    " pending_price_tier_id, pending_change_at, trial_ends_at"
)
DISCOUNT_COLUMNS = (
    "id, code, percent_off, amount_off, currency, duration, duration_in_months, max_redemptions,"
    " expires_at, stripe_coupon_id, stripe_promotion_code_id, active, created_at, updated_at"
)


def _plan(row: asyncpg.Record) -> Plan:
    return Plan(**dict(row))


def _tier(row: asyncpg.Record) -> PriceTier:
    return PriceTier(**dict(row))


def _subscription(row: asyncpg.Record) -> PlanSubscription:
    return PlanSubscription(**dict(row))


def _discount(row: asyncpg.Record) -> DiscountCode:
    return DiscountCode(**dict(row))


def _features(row: asyncpg.Record) -> PlanFeatures:
    return PlanFeatures(row["messages_per_period"], row["support_tier"], row["ai_assist"])


def _after(position: Position | None, first_arg: int) -> tuple[str, list[Any]]:
    """The keyset condition after ``position``, with its arguments numbered from ``first_arg``."""
    if position is None:
        return "", []
    return f"(created_at, id) > (${first_arg}, ${first_arg + 1})", [position[0], position[1]]


def _where(*conditions: str) -> str:
    present = [c for c in conditions if c]
    return f"WHERE {' AND '.join(present)}" if present else ""


class ProductRepository:
    """Plans, features, price tiers, plan subscriptions, discount codes and usage."""

    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self._db = db

    # --- plans ------------------------------------------------------------------------

    async def add_plan(self, plan: Plan, features: PlanFeatures) -> None:
        await self._db.execute(
            f"INSERT INTO plans ({PLAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            plan.id,
            plan.name,
            plan.description,
            plan.icon_url,
            plan.active,
            plan.stripe_product_id,
            plan.created_at,
            plan.updated_at,
        )
        await self.save_features(plan.id, features)

    async def save_plan(self, plan: Plan) -> None:
        await self._db.execute(
            "UPDATE plans SET name = $2, description = $3, icon_url = $4, active = $5,"
            " stripe_product_id = $6, updated_at = $7 WHERE id = $1",
            plan.id,
            plan.name,
            plan.description,
            plan.icon_url,
            plan.active,
            plan.stripe_product_id,
            plan.updated_at,
        )

    async def save_features(self, plan_id: UUID, features: PlanFeatures) -> None:
        await self._db.execute(
            "INSERT INTO plan_features (plan_id, messages_per_period, support_tier, ai_assist)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (plan_id) DO UPDATE SET"
            " messages_per_period = EXCLUDED.messages_per_period,"
            " support_tier = EXCLUDED.support_tier, ai_assist = EXCLUDED.ai_assist",
            plan_id,
            features.messages_per_period,
            features.support_tier,
            features.ai_assist,
        )

    async def plan(self, plan_id: UUID, *, for_update: bool = False) -> Plan | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self._db.fetchrow(
            f"SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1{lock}", plan_id
        )
        return _plan(row) if row else None

    async def plans(self, plan_ids: Sequence[UUID]) -> dict[UUID, Plan]:
        rows = await self._db.fetch(
            f"SELECT {PLAN_COLUMNS} FROM plans WHERE id = ANY($1::uuid[])", list(plan_ids)
        )
        return {row["id"]: _plan(row) for row in rows}

    async def features(self, plan_ids: Sequence[UUID]) -> dict[UUID, PlanFeatures]:
        rows = await self._db.fetch(
            "SELECT plan_id, messages_per_period, support_tier, ai_assist FROM plan_features"
            " WHERE plan_id = ANY($1::uuid[])",
            list(plan_ids),
        )
        return {row["plan_id"]: _features(row) for row in rows}

    async def plan_page(
        self, *, active_only: bool, after: Position | None, limit: int
    ) -> list[Plan]:
        """Up to ``limit`` plans in creation order after ``after``."""
        keyset, args = _after(after, 1)
        where = _where(keyset, "active" if active_only else "")
        rows = await self._db.fetch(
            f"SELECT {PLAN_COLUMNS} FROM plans {where} ORDER BY created_at, id"
            f" LIMIT ${len(args) + 1}",
            *args,
            limit,
        )
        return [_plan(row) for row in rows]

    async def count_plans(self, *, active_only: bool) -> int:
        where = _where("active" if active_only else "")
        return int(await self._db.fetchval(f"SELECT count(*) FROM plans {where}"))

    async def notify_plan_changed(self, plan_id: UUID) -> None:
        """Tell the planUpdated subscriptions of every replica, when the transaction commits."""
        await self._db.execute("SELECT pg_notify($1, $2)", PLAN_CHANGED_CHANNEL, str(plan_id))

    # --- price tiers ------------------------------------------------------------------

    async def add_tier(self, tier: PriceTier) -> None:
        await self._db.execute(
            f"INSERT INTO price_tiers ({TIER_COLUMNS})"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            tier.id,
            tier.plan_id,
            tier.name,
            tier.amount,
            tier.currency,
            tier.interval,
            tier.status,
            tier.version,
            tier.replaces_price_tier_id,
            tier.stripe_price_id,
            tier.created_at,
            tier.updated_at,
            tier.trial_days,
        )

    async def save_tier(self, tier: PriceTier) -> None:
        """Store what may change on a tier: its name, trial, status and Stripe price id."""
        await self._db.execute(
            "UPDATE price_tiers SET name = $2, status = $3, stripe_price_id = $4, updated_at = $5,"
            " trial_days = $6 WHERE id = $1",
            tier.id,
            tier.name,
            tier.status,
            tier.stripe_price_id,
            tier.updated_at,
            tier.trial_days,
        )

    async def tier(self, tier_id: UUID, *, for_update: bool = False) -> PriceTier | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self._db.fetchrow(
            f"SELECT {TIER_COLUMNS} FROM price_tiers WHERE id = $1{lock}", tier_id
        )
        return _tier(row) if row else None

    async def tiers(self, tier_ids: Sequence[UUID]) -> dict[UUID, PriceTier]:
        rows = await self._db.fetch(
            f"SELECT {TIER_COLUMNS} FROM price_tiers WHERE id = ANY($1::uuid[])", list(tier_ids)
        )
        return {row["id"]: _tier(row) for row in rows}

    async def tiers_of_plans(
        self, plan_ids: Sequence[UUID], *, include_archived: bool
    ) -> dict[UUID, list[PriceTier]]:
        """The tiers of each plan in creation order: active ones, or all of them."""
        status = "" if include_archived else " AND status = 'active'"
        rows = await self._db.fetch(
            f"SELECT {TIER_COLUMNS} FROM price_tiers WHERE plan_id = ANY($1::uuid[]){status}"
            " ORDER BY created_at, id",
            list(plan_ids),
        )
        found: dict[UUID, list[PriceTier]] = {plan_id: [] for plan_id in plan_ids}
        for row in rows:
            found[row["plan_id"]].append(_tier(row))
        return found

    # --- plan subscriptions -----------------------------------------------------------

    async def add_subscription_once(self, subscription: PlanSubscription) -> bool:
        """Insert unless a subscription with its Stripe id exists; True when inserted."""
        inserted = await self._db.fetchval(
            f"INSERT INTO plan_subscriptions ({SUBSCRIPTION_COLUMNS})"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            " ON CONFLICT (stripe_subscription_id) DO NOTHING RETURNING true",
            subscription.id,
            subscription.client_id,
            subscription.price_tier_id,
            subscription.status,
            subscription.current_period_start,
            subscription.current_period_end,
            subscription.stripe_subscription_id,
            subscription.cancel_at_period_end,
            subscription.created_at,
            subscription.updated_at,
            subscription.past_due_since,
            subscription.pending_price_tier_id,
            subscription.pending_change_at,
            subscription.trial_ends_at,
        )
        return bool(inserted)

    async def save_subscription(self, subscription: PlanSubscription) -> None:
        await self._db.execute(
            "UPDATE plan_subscriptions SET status = $2, current_period_start = $3,"
            " current_period_end = $4, cancel_at_period_end = $5, updated_at = $6,"
            " past_due_since = $7, price_tier_id = $8, pending_price_tier_id = $9,"
            " pending_change_at = $10, trial_ends_at = $11 WHERE id = $1",
            subscription.id,
            subscription.status,
            subscription.current_period_start,
            subscription.current_period_end,
            subscription.cancel_at_period_end,
            subscription.updated_at,
            subscription.past_due_since,
            subscription.price_tier_id,
            subscription.pending_price_tier_id,
            subscription.pending_change_at,
            subscription.trial_ends_at,
        )

    async def subscription(
        self, subscription_id: UUID, *, for_update: bool = False
    ) -> PlanSubscription | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self._db.fetchrow(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM plan_subscriptions WHERE id = $1{lock}",
            subscription_id,
        )
        return _subscription(row) if row else None

    async def subscription_by_stripe_id(
        self, stripe_subscription_id: str, *, for_update: bool = False
    ) -> PlanSubscription | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self._db.fetchrow(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM plan_subscriptions"
            f" WHERE stripe_subscription_id = $1{lock}",
            stripe_subscription_id,
        )
        return _subscription(row) if row else None

    async def subscriptions(self, subscription_ids: Sequence[UUID]) -> dict[UUID, PlanSubscription]:
        rows = await self._db.fetch(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM plan_subscriptions WHERE id = ANY($1::uuid[])",
            list(subscription_ids),
        )
        return {row["id"]: _subscription(row) for row in rows}

    async def current_subscriptions(
        self, client_ids: Sequence[UUID]
    ) -> dict[UUID, PlanSubscription]:
        """Each client's current subscription: the newest that grants messages, else the newest
        incomplete one, else the newest canceled one."""
        rows = await self._db.fetch(
            f"SELECT DISTINCT ON (client_id) {SUBSCRIPTION_COLUMNS} FROM plan_subscriptions"
            " WHERE client_id = ANY($1::uuid[])"
            " ORDER BY client_id,"
            " CASE status WHEN 'active' THEN 0 WHEN 'past_due' THEN 0"
            " WHEN 'incomplete' THEN 1 ELSE 2 END, created_at DESC, id DESC",
            list(client_ids),
        )
        return {row["client_id"]: _subscription(row) for row in rows}

    async def subscription_page(
        self,
        *,
        status: str | None,
        client_id: UUID | None,
        after: Position | None,
        limit: int,
    ) -> list[PlanSubscription]:
        filters, args = self._subscription_filters(status, client_id)
        keyset, keyset_args = _after(after, len(args) + 1)
        args += keyset_args
        rows = await self._db.fetch(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM plan_subscriptions {_where(*filters, keyset)}"
            f" ORDER BY created_at, id LIMIT ${len(args) + 1}",
            *args,
            limit,
        )
        return [_subscription(row) for row in rows]

    async def count_subscriptions(self, *, status: str | None, client_id: UUID | None) -> int:
        filters, args = self._subscription_filters(status, client_id)
        return int(
            await self._db.fetchval(
                f"SELECT count(*) FROM plan_subscriptions {_where(*filters)}", *args
            )
        )

    @staticmethod
    def _subscription_filters(
        status: str | None, client_id: UUID | None
    ) -> tuple[list[str], list[Any]]:
        filters: list[str] = []
        args: list[Any] = []
        if status is not None:
            args.append(status)
            filters.append(f"status = ${len(args)}")
        if client_id is not None:
            args.append(client_id)
            filters.append(f"client_id = ${len(args)}")
        return filters, args

    # --- discount codes ---------------------------------------------------------------

    async def code_taken(self, code: str) -> bool:
        return bool(
            await self._db.fetchval(
                "SELECT EXISTS (SELECT 1 FROM discount_codes WHERE lower(code) = lower($1))", code
            )
        )

    async def add_discount(self, discount_id: UUID, terms: DiscountTerms, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO discount_codes (id, code, percent_off, amount_off, currency, duration,"
            " duration_in_months, max_redemptions, expires_at, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
            discount_id,
            terms.code,
            terms.percent_off,
            terms.amount_off,
            terms.currency,
            terms.duration,
            terms.duration_in_months,
            terms.max_redemptions,
            terms.expires_at,
            now,
        )

    async def save_discount(self, discount: DiscountCode) -> None:
        """Store what may change on a discount code: active and its Stripe ids."""
        await self._db.execute(
            "UPDATE discount_codes SET active = $2, stripe_coupon_id = $3,"
            " stripe_promotion_code_id = $4, updated_at = $5 WHERE id = $1",
            discount.id,
            discount.active,
            discount.stripe_coupon_id,
            discount.stripe_promotion_code_id,
            discount.updated_at,
        )

    async def discount(self, discount_id: UUID, *, for_update: bool = False) -> DiscountCode | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self._db.fetchrow(
            f"SELECT {DISCOUNT_COLUMNS} FROM discount_codes WHERE id = $1{lock}", discount_id
        )
        return _discount(row) if row else None

    async def discounts(self, discount_ids: Sequence[UUID]) -> dict[UUID, DiscountCode]:
        rows = await self._db.fetch(
            f"SELECT {DISCOUNT_COLUMNS} FROM discount_codes WHERE id = ANY($1::uuid[])",
            list(discount_ids),
        )
        return {row["id"]: _discount(row) for row in rows}

    async def discount_page(
        self, *, include_archived: bool, after: Position | None, limit: int
    ) -> list[DiscountCode]:
        keyset, args = _after(after, 1)
        where = _where(keyset, "" if include_archived else "active")
        rows = await self._db.fetch(
            f"SELECT {DISCOUNT_COLUMNS} FROM discount_codes {where} ORDER BY created_at, id"
            f" LIMIT ${len(args) + 1}",
            *args,
            limit,
        )
        return [_discount(row) for row in rows]

    async def count_discounts(self, *, include_archived: bool) -> int:
        where = _where("" if include_archived else "active")
        return int(await self._db.fetchval(f"SELECT count(*) FROM discount_codes {where}"))

    # --- usage ------------------------------------------------------------------------

    async def claim_usage_key(
        self, idempotency_key: str, client_id: UUID, period_start: datetime, messages: int
    ) -> bool:
        """Remember ``idempotency_key``; False when it was recorded before."""
        claimed = await self._db.fetchval(
            "INSERT INTO usage_records (idempotency_key, client_id, period_start, messages)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (idempotency_key) DO NOTHING RETURNING true",
            idempotency_key,
            client_id,
            period_start,
            messages,
        )
        return bool(claimed)

    async def add_usage(self, client_id: UUID, period_start: datetime, messages: int) -> None:
        await self._db.execute(
            "INSERT INTO usage (client_id, period_start, messages_sent) VALUES ($1, $2, $3)"
            " ON CONFLICT (client_id, period_start) DO UPDATE"
            " SET messages_sent = usage.messages_sent + EXCLUDED.messages_sent, updated_at = now()",
            client_id,
            period_start,
            messages,
        )

    async def usage(
        self, periods: Iterable[tuple[UUID, datetime]]
    ) -> dict[tuple[UUID, datetime], int]:
        """Messages sent per ``(client_id, period_start)``; absent pairs sent none."""
        pairs = list(periods)
        if not pairs:
            return {}
        rows = await self._db.fetch(
            "SELECT u.client_id, u.period_start, u.messages_sent FROM usage u"
            " JOIN unnest($1::uuid[], $2::timestamptz[]) AS p (client_id, period_start)"
            " ON u.client_id = p.client_id AND u.period_start = p.period_start",
            [client for client, _ in pairs],
            [start for _, start in pairs],
        )
        found = {(row["client_id"], row["period_start"]): int(row["messages_sent"]) for row in rows}
        return {pair: found.get(pair, 0) for pair in pairs}

    # --- dashboard totals -------------------------------------------------------------

    async def subscription_counts(self) -> dict[str, int]:
        rows = await self._db.fetch(
            "SELECT status, count(*) AS n FROM plan_subscriptions GROUP BY status"
        )
        return {row["status"]: int(row["n"]) for row in rows}

    async def active_revenue(self) -> list[tuple[int, str, Any, int]]:
        """``(amount, currency, interval, subscriptions)`` of the tiers of active subscriptions."""
        rows = await self._db.fetch(
            "SELECT t.amount, t.currency, t.interval, count(*) AS n FROM plan_subscriptions s"
            " JOIN price_tiers t ON t.id = s.price_tier_id WHERE s.status = 'active'"
            " GROUP BY t.amount, t.currency, t.interval"
        )
        return [(row["amount"], row["currency"], row["interval"], int(row["n"])) for row in rows]
