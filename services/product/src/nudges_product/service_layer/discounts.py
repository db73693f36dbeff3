"""Use cases of discount codes (admin), and their Stripe ids.

Creating and archiving a code publish ``product.discount-code.created/archived``; the
consumers create (or deactivate) the Stripe coupon and promotion code, whose code is the
discount's code; ProductApi records their ids from Stripe's ``promotion_code.created`` (no
event).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from nudges_kit.errors import BadInput, Conflict, NotFound
from nudges_kit.events.catalog import product as catalog
from nudges_product.domain.discounts import DiscountTerms
from nudges_product.domain.model import DiscountCode
from nudges_product.domain.subscriptions import stripe_id
from nudges_product.service_layer.events import discount_code_data
from nudges_product.service_layer.unit_of_work import UnitOfWork, unit_of_work


async def _discount_for_update(uow: UnitOfWork, discount_id: UUID) -> DiscountCode:
    discount = await uow.products.discount(discount_id, for_update=True)
    if discount is None:
        raise NotFound("discount code not found")
    return discount


async def create_discount_code(pool: asyncpg.Pool, terms: DiscountTerms) -> DiscountCode:
    """A new active discount code; its code is unique whatever the case."""
    discount_id = uuid4()
    async with unit_of_work(pool) as uow:
        if await uow.products.code_taken(terms.code):
            raise BadInput(f"the code {terms.code!r} is already in use", field="code")
        await uow.products.add_discount(discount_id, terms, datetime.now(UTC))
        created = await uow.products.discount(discount_id)
        assert created is not None
        await uow.publish(
            catalog.discount_code_created, str(created.id), discount_code_data(created)
        )
    return created


async def archive_discount_code(pool: asyncpg.Pool, discount_id: UUID) -> DiscountCode:
    """The code, no longer accepted at checkout."""
    async with unit_of_work(pool) as uow:
        discount = await _discount_for_update(uow, discount_id)
        if not discount.active:
            return discount
        archived = replace(discount, active=False, updated_at=datetime.now(UTC))
        await uow.products.save_discount(archived)
        await uow.publish(
            catalog.discount_code_archived, str(archived.id), discount_code_data(archived)
        )
    return archived


async def set_discount_stripe_ids(
    db: Any, discount_id: UUID, coupon_id: str, promotion_code_id: str
) -> DiscountCode:
    """Record the Stripe coupon and promotion code of a discount (once)."""
    coupon_id = stripe_id(coupon_id, "couponId")
    promotion_code_id = stripe_id(promotion_code_id, "promotionCodeId")
    async with unit_of_work(db) as uow:
        discount = await _discount_for_update(uow, discount_id)
        ids = (discount.stripe_coupon_id, discount.stripe_promotion_code_id)
        if ids == (coupon_id, promotion_code_id):
            return discount
        if ids != (None, None):
            raise Conflict("the discount code already has its Stripe coupon and promotion code")
        updated = replace(
            discount,
            stripe_coupon_id=coupon_id,
            stripe_promotion_code_id=promotion_code_id,
            updated_at=datetime.now(UTC),
        )
        await uow.products.save_discount(updated)
    return updated
