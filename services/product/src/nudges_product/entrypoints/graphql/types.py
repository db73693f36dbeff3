"""The GraphQL types of ProductApi: thin views of domain values. Nested fields load through
the request's DataLoaders; fields only staff may read say so."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from nudges_kit.graphql import context_of, not_found
from nudges_product.domain import allowance as domain_allowance
from nudges_product.domain import model as domain
from nudges_product.domain.money import Money as DomainMoney
from nudges_product.entrypoints.graphql import access, loaders
from nudges_product.service_layer.queries import ProductTotals as DomainTotals


@strawberry.enum
class SupportTier(Enum):
    BASIC = "basic"
    STANDARD = "standard"
    PREMIUM = "premium"


@strawberry.enum
class BillingInterval(Enum):
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


@strawberry.enum
class PriceTierStatus(Enum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    ARCHIVED = "archived"


@strawberry.enum
class PlanSubscriptionStatus(Enum):
    INCOMPLETE = "incomplete"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"


@strawberry.enum(description="Whether a client's plan lets them send now.")
class PlanState(Enum):
    ACTIVE = strawberry.enum_value("active", description="Paid: sending.")
    GRACE = strawberry.enum_value(
        "grace", description="Past due, within the grace period: still sending."
    )
    LAPSED = strawberry.enum_value(
        "lapsed", description="Past due beyond the grace period: not sending until paid."
    )
    NONE = strawberry.enum_value("none", description="No plan that grants messages.")


@strawberry.enum
class DiscountDuration(Enum):
    ONCE = "once"
    REPEATING = "repeating"
    FOREVER = "forever"


@strawberry.type(description="What a plan gives a client each billing period.")
class PlanFeatures:
    messages_per_period: int
    support_tier: SupportTier
    ai_assist: bool

    @classmethod
    def of(cls, features: domain.PlanFeatures) -> PlanFeatures:
        return cls(
            messages_per_period=features.messages_per_period,
            support_tier=SupportTier(features.support_tier),
            ai_assist=features.ai_assist,
        )


def plan_visible(info: strawberry.Info, plan: domain.Plan) -> bool:
    """Active plans are public; archived ones only staff see."""
    return plan.active or access.is_staff(info)


@strawberry.federation.type(keys=["id"], description="A product a client can subscribe to.")
class Plan:
    id: strawberry.ID
    name: str
    description: str
    icon_url: str | None
    active: bool = strawberry.field(description="False once archived.")
    created_at: datetime
    updated_at: datetime
    model: strawberry.Private[domain.Plan]

    @classmethod
    def of(cls, plan: domain.Plan) -> Plan:
        return cls(
            id=strawberry.ID(str(plan.id)),
            name=plan.name,
            description=plan.description,
            icon_url=plan.icon_url,
            active=plan.active,
            created_at=plan.created_at,
            updated_at=plan.updated_at,
            model=plan,
        )

    @strawberry.field
    async def features(self, info: strawberry.Info) -> PlanFeatures | None:
        found = await loaders.features(info).load(self.model.id)
        return PlanFeatures.of(found) if found else None

    @strawberry.field(
        description="Active tiers; with includeArchived (admin, service) every version."
    )
    async def tiers(self, info: strawberry.Info, include_archived: bool = False) -> list[PriceTier]:
        if include_archived:
            access.require_staff_field(info)
        found = await loaders.tiers_of_plan(info, include_archived).load(self.model.id)
        return [PriceTier.of(tier) for tier in found]

    @strawberry.field(
        description="The Stripe Product, once the consumers created it (admins, services)."
    )
    def stripe_product_id(self, info: strawberry.Info) -> str | None:
        access.require_staff_field(info)
        return self.model.stripe_product_id

    @classmethod
    async def resolve_reference(cls, info: strawberry.Info, id: strawberry.ID) -> Plan | None:
        plan = await loaders.plans(info).load(access.parse_id(id))
        return cls.of(plan) if plan and plan_visible(info, plan) else None


@strawberry.federation.type(
    keys=["id"],
    description="A price of a plan. A new amount, currency or interval makes a new version.",
)
class PriceTier:
    id: strawberry.ID
    name: str
    amount: int = strawberry.field(description="Minor units of the currency (cents).")
    currency: str = strawberry.field(description="ISO 4217, lowercase.")
    interval: BillingInterval
    status: PriceTierStatus
    version: int
    replaces_price_tier_id: strawberry.ID | None
    trial_days: int = strawberry.field(description="Days of free trial a checkout starts with.")
    created_at: datetime
    updated_at: datetime
    model: strawberry.Private[domain.PriceTier]

    @classmethod
    def of(cls, tier: domain.PriceTier) -> PriceTier:
        return cls(
            id=strawberry.ID(str(tier.id)),
            name=tier.name,
            amount=tier.amount,
            currency=tier.currency,
            interval=BillingInterval(tier.interval),
            status=PriceTierStatus(tier.status),
            version=tier.version,
            replaces_price_tier_id=strawberry.ID(str(tier.replaces_price_tier_id))
            if tier.replaces_price_tier_id
            else None,
            trial_days=tier.trial_days,
            created_at=tier.created_at,
            updated_at=tier.updated_at,
            model=tier,
        )

    @strawberry.field
    async def plan(self, info: strawberry.Info) -> Plan:
        plan = await loaders.plans(info).load(self.model.plan_id)
        if plan is None:
            raise not_found("plan")
        return Plan.of(plan)

    @strawberry.field(
        description="The Stripe Price checkout uses, once created (admins, services)."
    )
    def stripe_price_id(self, info: strawberry.Info) -> str | None:
        access.require_staff_field(info)
        return self.model.stripe_price_id

    @classmethod
    async def resolve_reference(cls, info: strawberry.Info, id: strawberry.ID) -> PriceTier | None:
        tier = await loaders.tiers(info).load(access.parse_id(id))
        if tier is None:
            return None
        if access.is_staff(info):
            return cls.of(tier)
        plan = await loaders.plans(info).load(tier.plan_id)
        public = tier.status == "active" and plan is not None and plan.active
        return cls.of(tier) if public else None


@strawberry.type(description="A client's message allowance in the current billing period.")
class Allowance:
    active: bool = strawberry.field(description="True while the client's plan lets them send.")
    messages_per_period: int
    used: int
    remaining: int
    period_start: datetime
    period_end: datetime | None
    state: PlanState
    grace_ends_at: datetime | None = strawberry.field(
        description="When a past-due plan stops sending (GRACE and LAPSED)."
    )
    grace_days_left: int | None = strawberry.field(
        description="Days of sending left to a past-due plan, a started day counting as one."
    )

    @classmethod
    def of(cls, allowance: domain_allowance.Allowance) -> Allowance:
        return cls(
            active=allowance.active,
            messages_per_period=allowance.messages_per_period,
            used=allowance.used,
            remaining=allowance.remaining,
            period_start=allowance.period_start,
            period_end=allowance.period_end,
            state=PlanState(allowance.standing.state),
            grace_ends_at=allowance.standing.grace_ends_at,
            grace_days_left=allowance.standing.grace_days_left,
        )


@strawberry.federation.type(
    keys=["id"], description="A client (owned by UserApi); its plan and allowance live here."
)
class Client:
    id: strawberry.ID

    @strawberry.field(
        description="The current plan subscription: the client itself, admins and services."
    )
    async def subscription(self, info: strawberry.Info) -> PlanSubscription | None:
        client_id = access.parse_id(self.id)
        access.require_client_or_staff(info, client_id)
        found = await loaders.current_subscriptions(info).load(client_id)
        return PlanSubscription.of(found) if found else None

    @strawberry.field(description="Messages allowed, used and remaining this period.")
    async def allowance(self, info: strawberry.Info) -> Allowance:
        client_id = access.parse_id(self.id)
        access.require_client_or_staff(info, client_id)
        return Allowance.of(await loaders.allowances(info).load(client_id))

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Client:
        return cls(id=id)


@strawberry.federation.type(keys=["id"], description="A client's Stripe subscription to a tier.")
class PlanSubscription:
    id: strawberry.ID
    status: PlanSubscriptionStatus
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    pending_change_at: datetime | None = strawberry.field(
        description="When the pending plan change applies: null for an upgrade waiting for"
        " Stripe's confirmation (seconds), the period's end for a downgrade."
    )
    trial_ends_at: datetime | None = strawberry.field(
        description="The end of the free trial, when the subscription started with one: the"
        " first charge."
    )
    created_at: datetime
    updated_at: datetime
    model: strawberry.Private[domain.PlanSubscription]

    @classmethod
    def of(cls, subscription: domain.PlanSubscription) -> PlanSubscription:
        return cls(
            id=strawberry.ID(str(subscription.id)),
            status=PlanSubscriptionStatus(subscription.status),
            current_period_start=subscription.current_period_start,
            current_period_end=subscription.current_period_end,
            cancel_at_period_end=subscription.cancel_at_period_end,
            pending_change_at=subscription.pending_change_at,
            trial_ends_at=subscription.trial_ends_at,
            created_at=subscription.created_at,
            updated_at=subscription.updated_at,
            model=subscription,
        )

    @strawberry.field(description="The client (resolved by UserApi).")
    def client(self) -> Client:
        return Client(id=strawberry.ID(str(self.model.client_id)))

    @strawberry.field
    async def price_tier(self, info: strawberry.Info) -> PriceTier:
        tier = await loaders.tiers(info).load(self.model.price_tier_id)
        if tier is None:
            raise not_found("price tier")
        return PriceTier.of(tier)

    @strawberry.field(description="The tier a plan change asked for moves to, not in force yet.")
    async def pending_price_tier(self, info: strawberry.Info) -> PriceTier | None:
        if self.model.pending_price_tier_id is None:
            return None
        tier = await loaders.tiers(info).load(self.model.pending_price_tier_id)
        return PriceTier.of(tier) if tier else None

    @strawberry.field(description="The Stripe Subscription (admins, services).")
    def stripe_subscription_id(self, info: strawberry.Info) -> str:
        access.require_staff_field(info)
        return self.model.stripe_subscription_id

    @classmethod
    async def resolve_reference(
        cls, info: strawberry.Info, id: strawberry.ID
    ) -> PlanSubscription | None:
        context_of(info).require()
        found = await loaders.subscriptions(info).load(access.parse_id(id))
        # Another client's subscription is as absent as a missing one.
        if found is None or not access.may_see_client(info, found.client_id):
            return None
        return cls.of(found)


@strawberry.federation.type(keys=["id"], description="A discount a client enters at checkout.")
class DiscountCode:
    id: strawberry.ID
    code: str
    percent_off: int | None
    amount_off: int | None = strawberry.field(description="Minor units of currency.")
    currency: str | None
    duration: DiscountDuration
    duration_in_months: int | None
    max_redemptions: int | None
    expires_at: datetime | None
    active: bool
    created_at: datetime
    updated_at: datetime
    model: strawberry.Private[domain.DiscountCode]

    @classmethod
    def of(cls, discount: domain.DiscountCode) -> DiscountCode:
        return cls(
            id=strawberry.ID(str(discount.id)),
            code=discount.code,
            percent_off=discount.percent_off,
            amount_off=discount.amount_off,
            currency=discount.currency,
            duration=DiscountDuration(discount.duration),
            duration_in_months=discount.duration_in_months,
            max_redemptions=discount.max_redemptions,
            expires_at=discount.expires_at,
            active=discount.active,
            created_at=discount.created_at,
            updated_at=discount.updated_at,
            model=discount,
        )

    @strawberry.field(description="The Stripe coupon (admins, services).")
    def stripe_coupon_id(self, info: strawberry.Info) -> str | None:
        access.require_staff_field(info)
        return self.model.stripe_coupon_id

    @strawberry.field(description="The Stripe promotion code (admins, services).")
    def stripe_promotion_code_id(self, info: strawberry.Info) -> str | None:
        access.require_staff_field(info)
        return self.model.stripe_promotion_code_id

    @classmethod
    async def resolve_reference(
        cls, info: strawberry.Info, id: strawberry.ID
    ) -> DiscountCode | None:
        context_of(info).require(*access.STAFF)
        found = await loaders.discounts(info).load(access.parse_id(id))
        return cls.of(found) if found else None


@strawberry.federation.type(shareable=True, description="An amount of minor units of a currency.")
class Money:
    amount: int
    currency: str

    @classmethod
    def of(cls, money: DomainMoney) -> Money:
        return cls(amount=money.amount, currency=money.currency)


@strawberry.type(description="The admin dashboard's product figures.")
class ProductTotals:
    active_plans: int
    active_subscriptions: int
    past_due_subscriptions: int
    canceled_subscriptions: int
    monthly_recurring_revenue: list[Money] = strawberry.field(
        description="MRR of active subscriptions, per currency, in minor units."
    )

    @classmethod
    def of(cls, totals: DomainTotals) -> ProductTotals:
        return cls(
            active_plans=totals.active_plans,
            active_subscriptions=totals.active_subscriptions,
            past_due_subscriptions=totals.past_due_subscriptions,
            canceled_subscriptions=totals.canceled_subscriptions,
            monthly_recurring_revenue=[Money.of(m) for m in totals.monthly_recurring_revenue],
        )
