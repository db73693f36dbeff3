"""Root queries: public plans, admin lists and totals, and the service's allowance lookup."""

from __future__ import annotations

import strawberry

from nudges_kit.graphql import Connection, context_of, not_found, page_size
from nudges_product.entrypoints.graphql import access, loaders
from nudges_product.entrypoints.graphql.pagination import connection, position
from nudges_product.entrypoints.graphql.types import (
    Allowance,
    DiscountCode,
    Plan,
    PlanSubscription,
    PlanSubscriptionStatus,
    ProductTotals,
    plan_visible,
)
from nudges_product.service_layer import queries


@strawberry.type
class Query:
    @strawberry.field(description="Public: the plans on offer, each with its active tiers.")
    async def plans(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Plan]:
        found = await queries.plan_page(
            loaders.pool_of(info), active_only=True, after=position(after), limit=page_size(first)
        )
        return connection(found, Plan.of)

    @strawberry.field(description="A plan: public while active; admins and services see any.")
    async def plan(self, info: strawberry.Info, id: strawberry.ID) -> Plan:
        found = await loaders.plans(info).load(access.parse_id(id))
        if found is None or not plan_visible(info, found):
            raise not_found("plan")
        return Plan.of(found)

    @strawberry.field(description="Admin: every plan, archived ones with includeArchived.")
    async def all_plans(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        include_archived: bool = False,
    ) -> Connection[Plan]:
        context_of(info).require("admin")
        found = await queries.plan_page(
            loaders.pool_of(info),
            active_only=not include_archived,
            after=position(after),
            limit=page_size(first),
        )
        return connection(found, Plan.of)

    @strawberry.field(description="Admin: discount codes, archived ones with includeArchived.")
    async def discount_codes(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        include_archived: bool = False,
    ) -> Connection[DiscountCode]:
        context_of(info).require("admin")
        found = await queries.discount_page(
            loaders.pool_of(info),
            include_archived=include_archived,
            after=position(after),
            limit=page_size(first),
        )
        return connection(found, DiscountCode.of)

    @strawberry.field(description="Admin: plan subscriptions, optionally of one status or client.")
    async def plan_subscriptions(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        status: PlanSubscriptionStatus | None = None,
        client_id: strawberry.ID | None = None,
    ) -> Connection[PlanSubscription]:
        context_of(info).require("admin")
        found = await queries.subscription_page(
            loaders.pool_of(info),
            status=status.value if status else None,
            client_id=access.parse_id(client_id, "clientId") if client_id else None,
            after=position(after),
            limit=page_size(first),
        )
        return connection(found, PlanSubscription.of)

    @strawberry.field(description="Admin: the dashboard's plan, subscription and MRR figures.")
    async def product_totals(self, info: strawberry.Info) -> ProductTotals:
        context_of(info).require("admin")
        return ProductTotals.of(await queries.product_totals(loaders.pool_of(info)))

    @strawberry.field(description="Service (and admin): a client's message allowance.")
    async def allowance(self, info: strawberry.Info, client_id: strawberry.ID) -> Allowance:
        context_of(info).require("service", "admin")
        return Allowance.of(
            await loaders.allowances(info).load(access.parse_id(client_id, "clientId"))
        )
