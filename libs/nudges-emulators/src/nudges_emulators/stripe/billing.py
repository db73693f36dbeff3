"""Checkout Sessions (subscription mode), Subscriptions and Invoices: what a paying client
goes through, and what a test or a person drives through the ``/_emulator`` endpoints."""

from __future__ import annotations

import calendar
import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from nudges_emulators.stripe.catalog import (
    coupon_is_valid,
    create_customer,
    promotion_code_is_valid,
)
from nudges_emulators.stripe.errors import StripeError, parameter_invalid, parameter_missing
from nudges_emulators.stripe.params import (
    ANY_KEYS,
    LIST_PARAMS,
    ApiCall,
    accepts,
    metadata,
    opt_bool,
    opt_choice,
    opt_dict,
    opt_int,
    opt_list,
    opt_str,
)
from nudges_emulators.stripe.state import StripeObject, StripeState, now, random_id

Line = tuple[StripeObject, int]  # a price and its quantity


def add_interval(start: int, interval: str, count: int = 1) -> int:
    """``start`` plus ``count`` billing intervals, months clamped to their last day."""
    at = datetime.fromtimestamp(start, UTC)
    if interval == "day":
        return int((at + timedelta(days=count)).timestamp())
    if interval == "week":
        return int((at + timedelta(weeks=count)).timestamp())
    months = count * (12 if interval == "year" else 1)
    month_index = at.month - 1 + months
    year, month = at.year + month_index // 12, month_index % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return int(at.replace(year=year, month=month, day=day).timestamp())


def discount_amount(coupon: StripeObject, subtotal: int, currency: str) -> int:
    """What ``coupon`` takes off ``subtotal`` (never more than the subtotal)."""
    if coupon["percent_off"] is not None:
        percent: float = coupon["percent_off"]
        return min(subtotal, round(subtotal * percent / 100))
    if coupon["currency"] != currency:
        return 0
    return int(min(subtotal, coupon["amount_off"]))


def _split(total: int, weights: list[int]) -> list[int]:
    """``total`` shared out in proportion to ``weights``, the remainder on the last share."""
    whole = sum(weights)
    if whole == 0:
        return [0 for _ in weights]
    shares = [total * w // whole for w in weights]
    shares[-1] += total - sum(shares)
    return shares


def _lines(state: StripeState, session_id: str) -> list[Line]:
    return [(item["price"], item["quantity"]) for item in state.line_items[session_id]]


def _resolve_discount(
    state: StripeState, params: dict[str, Any], currency: str
) -> tuple[StripeObject | None, StripeObject | None]:
    """The coupon and promotion code of ``discounts[0]``, both checked redeemable."""
    discounts = opt_list(params, "discounts")
    if not discounts:
        return None, None
    if opt_bool(params, "allow_promotion_codes"):
        raise StripeError(
            "You may only specify one of these parameters: allow_promotion_codes, discounts.",
            param="discounts",
        )
    if len(discounts) > 1 or not isinstance(discounts[0], dict):
        raise parameter_invalid("discounts", "You may only specify one discount.")
    entry = discounts[0]
    if promo_id := opt_str(entry, "promotion_code"):
        promo = state.get("promotion_code", promo_id, "discounts[0][promotion_code]")
        if not promotion_code_is_valid(state, promo):
            raise StripeError(
                f"This promotion code cannot be redeemed: {promo['code']}",
                param="discounts[0][promotion_code]",
                code="promotion_code_invalid",
            )
        coupon = state.get("coupon", promo["promotion"]["coupon"], "discounts[0][promotion_code]")
    elif coupon_id := opt_str(entry, "coupon"):
        promo = None
        coupon = state.get("coupon", coupon_id, "discounts[0][coupon]")
        if not coupon_is_valid(coupon):
            raise StripeError(
                f"Coupon expired: {coupon_id}", param="discounts[0][coupon]", code="coupon_expired"
            )
    else:
        raise parameter_missing("discounts[0][coupon]")
    if coupon["amount_off"] is not None and coupon["currency"] != currency:
        raise parameter_invalid(
            "discounts[0]", "The coupon's currency does not match the prices' currency."
        )
    return coupon, promo


def plan_of(price: StripeObject) -> StripeObject:
    """The legacy ``plan`` a subscription item still carries: its recurring price as a plan."""
    recurring = price["recurring"]
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": dict(price["metadata"]),
        "meter": None,
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": recurring["trial_period_days"],
        "usage_type": recurring["usage_type"],
    }


def new_discount(
    state: StripeState,
    coupon: StripeObject,
    promo: StripeObject | None,
    customer_id: str,
    start: int,
    subscription_id: str | None,
    session_id: str | None,
) -> StripeObject:
    """A discount applying ``coupon`` (through ``promo``), stored so that ``expand`` finds
    it; its coupon's terms are kept with it, since a deleted coupon's discounts still apply."""
    months = coupon["duration_in_months"]
    discount = state.add(
        "discount",
        {
            "id": random_id("di_"),
            "object": "discount",
            "checkout_session": session_id,
            "customer": customer_id,
            "end": add_interval(start, "month", months) if months else None,
            "invoice": None,
            "invoice_item": None,
            "promotion_code": promo["id"] if promo else None,
            "source": {"coupon": coupon["id"], "type": "coupon"},
            "start": start,
            "subscription": subscription_id,
            "subscription_item": None,
        },
    )
    state.discount_coupons[discount["id"]] = copy.deepcopy(coupon)
    return discount


def _discount_of(state: StripeState, subscription: StripeObject, at: int) -> StripeObject | None:
    """The subscription's discount still in force at ``at``."""
    for discount_id in subscription["discounts"]:
        discount = state.objects["discount"][discount_id]
        if discount["end"] is None or at < discount["end"]:
            return discount
    return None


def period_of(subscription: StripeObject) -> tuple[int, int]:
    """The current period, which this API version keeps on the subscription items."""
    item = subscription["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


# Checkout Sessions -------------------------------------------------------------------------


@accepts(
    {
        "mode": None,
        "customer": None,
        "customer_email": None,
        "line_items": {"price": None, "quantity": None},
        "discounts": {"coupon": None, "promotion_code": None},
        "allow_promotion_codes": None,
        "billing_address_collection": None,
        "success_url": None,
        "cancel_url": None,
        "client_reference_id": None,
        "expires_at": None,
        "locale": None,
        "metadata": ANY_KEYS,
        "subscription_data": {"metadata": ANY_KEYS, "trial_period_days": None},
    }
)
def create_checkout_session(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/checkout/sessions`` in ``subscription`` mode: ``line_items`` of recurring
    prices, optional ``customer``, one ``discounts`` entry, URLs, metadata."""
    p = call.params
    mode = opt_choice(p, "mode", ("payment", "setup", "subscription"))
    if mode is None:
        raise parameter_missing("mode")
    if mode != "subscription":
        raise parameter_invalid("mode", "The Stripe emulator supports mode=subscription only.")
    customer_id = opt_str(p, "customer")
    if customer_id is not None:
        state.get("customer", customer_id, "customer")
    items = opt_list(p, "line_items")
    if not items:
        raise parameter_missing("line_items")
    lines: list[Line] = []
    for index, item in enumerate(items):
        param = f"line_items[{index}][price]"
        price_id = opt_str(item, "price") if isinstance(item, dict) else None
        if price_id is None:
            raise parameter_missing(param)
        price = state.get("price", price_id, param)
        if not price["active"]:
            raise StripeError(
                f"The price specified ({price_id}) is inactive. This field only accepts active "
                "prices.",
                param=param,
            )
        if not state.objects["product"][price["product"]]["active"]:
            raise StripeError(
                f"The price `{price_id}` is not available to be purchased because its product "
                "is not active.",
                param=param,
            )
        if price["type"] != "recurring":
            raise StripeError(
                "You must provide at least one recurring price in `subscription` mode when "
                "using prices.",
                param="line_items",
            )
        quantity = opt_int(item, "quantity") or 1
        if quantity < 1:
            raise parameter_invalid(f"line_items[{index}][quantity]", "Quantity must be >= 1.")
        lines.append((price, quantity))
    if len({price["currency"] for price, _ in lines}) > 1:
        raise parameter_invalid("line_items", "All prices must have the same currency.")
    intervals = {
        (pr["recurring"]["interval"], pr["recurring"]["interval_count"]) for pr, _ in lines
    }
    if len(intervals) > 1:
        raise parameter_invalid(
            "line_items", "Checkout does not support prices with different billing intervals."
        )
    currency = lines[0][0]["currency"]
    coupon, promo = _resolve_discount(state, p, currency)
    subtotals = [price["unit_amount"] * quantity for price, quantity in lines]
    subtotal = sum(subtotals)
    discount = discount_amount(coupon, subtotal, currency) if coupon else 0
    created = now()
    expires_at = opt_int(p, "expires_at") or created + state.checkout_ttl_seconds
    if expires_at <= created:
        raise parameter_invalid("expires_at", "expires_at must be in the future.")
    session_id = random_id("cs_test_", 58)
    state.line_items[session_id] = [
        {
            "id": random_id("li_"),
            "object": "item",
            "amount_discount": line_discount,
            "amount_subtotal": line_subtotal,
            "amount_tax": 0,
            "amount_total": line_subtotal - line_discount,
            "currency": currency,
            "description": state.objects["product"][price["product"]]["name"],
            "price": copy.deepcopy(price),
            "quantity": quantity,
        }
        for (price, quantity), line_subtotal, line_discount in zip(
            lines, subtotals, _split(discount, subtotals), strict=True
        )
    ]
    state.subscription_data[session_id] = opt_dict(p, "subscription_data")
    session = state.add(
        "checkout.session",
        {
            "id": session_id,
            "object": "checkout.session",
            "after_expiration": None,
            "allow_promotion_codes": opt_bool(p, "allow_promotion_codes"),
            "amount_subtotal": subtotal,
            "amount_total": subtotal - discount,
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "billing_address_collection": opt_str(p, "billing_address_collection"),
            "cancel_url": opt_str(p, "cancel_url"),
            "client_reference_id": opt_str(p, "client_reference_id"),
            "created": created,
            "currency": currency,
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": customer_id,
            "customer_details": None,
            "customer_email": opt_str(p, "customer_email"),
            "discounts": (
                [{"coupon": coupon["id"], "promotion_code": promo["id"] if promo else None}]
                if coupon
                else []
            ),
            "expires_at": expires_at,
            "invoice": None,
            "livemode": False,
            "locale": opt_str(p, "locale"),
            "metadata": metadata(p),
            "mode": mode,
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "shipping_options": [],
            "status": "open",
            "subscription": None,
            "success_url": opt_str(p, "success_url"),
            "total_details": {"amount_discount": discount, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted_page",
            "url": f"{call.base_url}/checkout/{session_id}",
        },
    )
    return session


@accepts({**LIST_PARAMS, "customer": None, "subscription": None, "status": None})
def list_checkout_sessions(state: StripeState, call: ApiCall) -> StripeObject:
    """``GET /v1/checkout/sessions`` (``customer``, ``subscription``, ``status`` filters)."""
    p = call.params
    wanted = {f: opt_str(p, f) for f in ("customer", "subscription", "status")}
    return state.list_page(
        "checkout.session",
        p,
        "/v1/checkout/sessions",
        lambda s: all(v is None or s[f] == v for f, v in wanted.items()),
    )


@accepts(LIST_PARAMS)
def list_line_items(state: StripeState, call: ApiCall) -> StripeObject:
    """``GET /v1/checkout/sessions/{id}/line_items``."""
    session = state.get("checkout.session", call.object_id)
    return state.list_page(
        "checkout.session",
        call.params,
        f"/v1/checkout/sessions/{session['id']}/line_items",
        items=state.line_items[session["id"]],
    )


def _open_session(state: StripeState, session_id: str) -> StripeObject:
    session = state.get("checkout.session", session_id)
    if session["status"] != "open":
        raise StripeError(
            f"This Checkout Session is {session['status']}: only open sessions can be paid, "
            "failed or expired.",
            param="id",
            code="checkout_session_not_open",
        )
    return session


def _session_customer(state: StripeState, session: StripeObject, base_url: str) -> StripeObject:
    """The session's customer, created now when the session named none (as Checkout does)."""
    if session["customer"] is not None:
        return state.get("customer", session["customer"], "customer")
    params: dict[str, Any] = {}
    if session["customer_email"]:
        params["email"] = session["customer_email"]
    customer = create_customer(state, ApiCall("", params, base_url))
    session["customer"] = customer["id"]
    return customer


def complete_checkout(state: StripeState, session_id: str, base_url: str = "") -> StripeObject:
    """The payer paid: an active subscription, its first invoice paid, the session complete.
    Events: ``checkout.session.completed``, ``customer.subscription.created``,
    ``invoice.paid`` and ``invoice.payment_succeeded`` (and ``customer.created`` first when
    Checkout had to create the customer)."""
    session = _open_session(state, session_id)
    coupon, promo = _session_discount(state, session)
    customer = _session_customer(state, session, base_url)
    lines = _lines(state, session_id)
    start = now()
    recurring = lines[0][0]["recurring"]
    end = add_interval(start, recurring["interval"], recurring["interval_count"])
    trial_days = opt_int(state.subscription_data.get(session_id, {}), "trial_period_days")
    trial_end = start + trial_days * 24 * 3600 if trial_days else None
    if trial_end is not None:
        end = trial_end  # the first period is the trial
    subscription_id = random_id("sub_")
    discount = None
    if coupon is not None:
        discount = new_discount(
            state, coupon, promo, customer["id"], start, subscription_id, session_id
        )
        coupon["times_redeemed"] += 1
        if promo is not None:
            promo["times_redeemed"] += 1
    sub_metadata = metadata(state.subscription_data.get(session_id, {}))
    subscription = state.add(
        "subscription",
        {
            "id": subscription_id,
            "object": "subscription",
            "application": None,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": start,
            "billing_mode": {
                "flexible": {"proration_discounts": "included"},
                "type": "flexible",
                "updated_at": start,
            },
            "billing_schedules": [],
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically",
            "created": start,
            "currency": session["currency"],
            "customer": customer["id"],
            "days_until_due": None,
            "default_payment_method": None,
            "description": None,
            "discounts": [discount["id"]] if discount else [],
            "ended_at": None,
            "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": random_id("si_", 14),
                        "object": "subscription_item",
                        "created": start,
                        "current_period_end": end,
                        "current_period_start": start,
                        "discounts": [],
                        "metadata": {},
                        "plan": plan_of(price),
                        "price": copy.deepcopy(price),
                        "quantity": quantity,
                        "subscription": subscription_id,
                        "tax_rates": [],
                    }
                    for price, quantity in lines
                ],
                "has_more": False,
                "total_count": len(lines),
                "url": f"/v1/subscription_items?subscription={subscription_id}",
            },
            "latest_invoice": None,
            "livemode": False,
            "metadata": sub_metadata,
            "pending_update": None,
            "schedule": None,
            "start_date": start,
            "status": "trialing" if trial_end else "active",
            "trial_end": trial_end,
            "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
            "trial_start": start if trial_end else None,
        },
    )
    invoice = _create_invoice(
        state,
        customer,
        subscription,
        lines,
        discount,
        billing_reason="subscription_create",
        paid=True,
        trial=trial_end is not None,
    )
    subscription["latest_invoice"] = invoice["id"]
    session.update(
        {
            "status": "complete",
            "payment_status": "paid",
            "subscription": subscription_id,
            "invoice": invoice["id"],
            "url": None,
            "customer_details": {
                "address": None,
                "email": customer["email"],
                "name": customer["name"],
                "phone": customer["phone"],
                "tax_exempt": "none",
                "tax_ids": [],
            },
        }
    )
    state.emit("checkout.session.completed", session)
    state.emit("customer.subscription.created", subscription)
    state.emit("invoice.paid", invoice)
    state.emit("invoice.payment_succeeded", invoice)
    if trial_end is not None and trial_end - start <= TRIAL_WILL_END_SECONDS:
        state.emit("customer.subscription.trial_will_end", subscription)
    return session


#: Stripe announces the end of a trial this long before it (at once for shorter trials).
TRIAL_WILL_END_SECONDS = 3 * 24 * 3600


def announce_trial_end(state: StripeState, subscription_id: str) -> StripeObject:
    """Three days before the trial ends, now: ``customer.subscription.trial_will_end``."""
    subscription = state.get("subscription", subscription_id)
    if subscription["status"] != "trialing":
        raise StripeError("The subscription is not in a trial.", param="id")
    state.emit("customer.subscription.trial_will_end", subscription)
    return subscription


def fail_checkout(state: StripeState, session_id: str, base_url: str = "") -> StripeObject:
    """The payer's card was declined: an open invoice for the amount and
    ``invoice.payment_failed``. The session stays open (the payer may try again, as on
    Stripe's page) and still expires at ``expires_at``. No subscription exists yet, so the
    invoice carries the session's metadata to let a receiver tell whose checkout failed."""
    session = _open_session(state, session_id)
    coupon, promo = _session_discount(state, session)
    customer = _session_customer(state, session, base_url)
    discount = None
    if coupon is not None:
        discount = new_discount(state, coupon, promo, customer["id"], now(), None, session_id)
    invoice = _create_invoice(
        state,
        customer,
        None,
        _lines(state, session_id),
        discount,
        billing_reason="subscription_create",
        paid=False,
        invoice_metadata={**session["metadata"], "checkout_session": session_id},
    )
    state.emit("invoice.payment_failed", invoice)
    return invoice


@accepts({})
def expire_checkout(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/checkout/sessions/{id}/expire``: ``checkout.session.expired``."""
    session = _open_session(state, call.object_id)
    session.update({"status": "expired", "url": None})
    state.emit("checkout.session.expired", session)
    return session


def expire_due_sessions(state: StripeState) -> int:
    """Expire open sessions past their ``expires_at``; how many."""
    at = now()
    due = [
        s
        for s in state.objects["checkout.session"].values()
        if s["status"] == "open" and s["expires_at"] <= at
    ]
    for session in due:
        expire_checkout(state, ApiCall(session["id"], {}, ""))
    return len(due)


def _session_discount(
    state: StripeState, session: StripeObject
) -> tuple[StripeObject | None, StripeObject | None]:
    """The session's coupon and promotion code, refused when no longer redeemable."""
    if not session["discounts"]:
        return None, None
    entry = session["discounts"][0]
    params: dict[str, Any] = {"discounts": [{k: v for k, v in entry.items() if v}]}
    if entry["promotion_code"]:
        params["discounts"] = [{"promotion_code": entry["promotion_code"]}]
    return _resolve_discount(state, params, session["currency"])


# Invoices ----------------------------------------------------------------------------------


def _create_invoice(
    state: StripeState,
    customer: StripeObject,
    subscription: StripeObject | None,
    lines: list[Line],
    discount: StripeObject | None,
    *,
    billing_reason: str,
    paid: bool,
    invoice_metadata: dict[str, str] | None = None,
    pending: list[StripeObject] | None = None,
    preview: bool = False,
    trial: bool = False,
) -> StripeObject:
    """An invoice for ``lines`` (a subscription's items) and the ``pending`` invoice items
    (prorations), with ``discount`` off the items' subtotal; stored, unless a ``preview``."""
    created = now()
    pending = pending or []
    currency = lines[0][0]["currency"] if lines else pending[0]["currency"]
    if subscription is not None:
        period_start, period_end = period_of(subscription)
    else:
        recurring = lines[0][0]["recurring"]
        period_start = created
        period_end = add_interval(created, recurring["interval"], recurring["interval_count"])
    # A trial's invoice bills its items at zero.
    amounts = [0 if trial else price["unit_amount"] * quantity for price, quantity in lines]
    coupon = state.discount_coupons[discount["id"]] if discount else None
    off = discount_amount(coupon, sum(amounts), currency) if coupon else 0
    subtotal = sum(amounts) + sum(item["amount"] for item in pending)
    total = subtotal - off
    invoice_id = f"upcoming_{random_id('in_')}" if preview else random_id("in_")
    subscription_id = subscription["id"] if subscription else None
    items = subscription["items"]["data"] if subscription and lines else [None] * len(lines)
    line_items = []
    for (price, quantity), amount, line_off, item in zip(
        lines, amounts, _split(off, amounts), items, strict=True
    ):
        product = state.objects["product"][price["product"]]
        line_items.append(
            {
                "id": random_id("il_"),
                "object": "line_item",
                "amount": amount,
                "currency": currency,
                "description": (
                    f"Trial period for {product['name']}"
                    if trial
                    else f"{quantity} x {product['name']}"
                ),
                "discount_amounts": (
                    [{"amount": line_off, "discount": discount["id"]}] if discount else []
                ),
                "discountable": True,
                "discounts": [],
                "invoice": invoice_id,
                "livemode": False,
                "metadata": {},
                "parent": (
                    {
                        "invoice_item_details": None,
                        "subscription_item_details": {
                            "invoice_item": None,
                            "proration": False,
                            "proration_details": {"credited_items": None},
                            "subscription": subscription_id,
                            "subscription_item": item["id"],
                        },
                        "type": "subscription_item_details",
                    }
                    if item is not None
                    else None
                ),
                "period": {"start": period_start, "end": period_end},
                "pretax_credit_amounts": [],
                "pricing": {
                    "type": "price_details",
                    "price_details": {"price": price["id"], "product": product["id"]},
                    "unit_amount_decimal": price["unit_amount_decimal"],
                },
                "quantity": quantity,
                "subtotal": amount,
                "subscription": subscription_id,
                "taxes": [],
            }
        )
    line_items += [_proration_line(item, invoice_id) for item in pending]
    number = sum(1 for i in state.objects["invoice"].values() if i["customer"] == customer["id"])
    amount_due = max(total, 0)
    invoice: StripeObject = {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Nudges (Stripe emulator)",
        "amount_due": amount_due,
        "amount_overpaid": 0,
        "amount_paid": amount_due if paid else 0,
        "amount_remaining": 0 if paid else amount_due,
        "amount_shipping": 0,
        "attempt_count": 1,
        "attempted": True,
        "auto_advance": not paid,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer["id"],
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "customer_phone": customer["phone"],
        "default_tax_rates": [],
        "description": None,
        "discounts": [discount["id"]] if discount else [],
        "due_date": None,
        "ending_balance": 0,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "lines": {
            "object": "list",
            "data": line_items,
            "has_more": False,
            "total_count": len(line_items),
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": invoice_metadata or {},
        "next_payment_attempt": None if paid else created + 3 * 24 * 3600,
        "number": f"{customer['invoice_prefix']}-{number + 1:04d}",
        "parent": (
            {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {
                    "metadata": dict(subscription["metadata"]),
                    "subscription": subscription_id,
                },
            }
            if subscription
            else None
        ),
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": period_end,
        "period_start": period_start,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "starting_balance": 0,
        "status": "paid" if paid else "open",
        "status_transitions": {
            "finalized_at": created,
            "marked_uncollectible_at": None,
            "paid_at": created if paid else None,
            "voided_at": None,
        },
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal,
        "total": total,
        "total_discount_amounts": (
            [{"amount": off, "discount": discount["id"]}] if discount else []
        ),
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
    }
    if preview:
        invoice.update(
            {
                "status": "draft",
                "amount_paid": 0,
                "amount_remaining": amount_due,
                "attempted": False,
                "attempt_count": 0,
                "number": None,
                "status_transitions": {
                    "finalized_at": None,
                    "marked_uncollectible_at": None,
                    "paid_at": None,
                    "voided_at": None,
                },
                "next_payment_attempt": None,
            }
        )
        return invoice
    for item in pending:
        item["invoice"] = invoice_id
        state.pending_items.pop(item["id"], None)
    return state.add("invoice", invoice)


def _proration_line(item: StripeObject, invoice_id: str) -> StripeObject:
    """The invoice line of a pending invoice item (a proration)."""
    return {
        "id": random_id("il_"),
        "object": "line_item",
        "amount": item["amount"],
        "currency": item["currency"],
        "description": item["description"],
        "discount_amounts": [],
        "discountable": item["discountable"],
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": {},
        "parent": {
            "invoice_item_details": {
                "invoice_item": item["id"],
                "proration": item["proration"],
                "proration_details": {"credited_items": None},
                "subscription": item["parent"]["subscription_details"]["subscription"],
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        },
        "period": dict(item["period"]),
        "pretax_credit_amounts": [],
        "pricing": copy.deepcopy(item["pricing"]),
        "quantity": item["quantity"],
        "subtotal": item["amount"],
        "subscription": item["parent"]["subscription_details"]["subscription"],
        "taxes": [],
    }


@accepts({**LIST_PARAMS, "customer": None, "subscription": None, "status": None})
def list_invoices(state: StripeState, call: ApiCall) -> StripeObject:
    """``GET /v1/invoices`` (``customer``, ``subscription``, ``status`` filters)."""
    p = call.params
    wanted = {f: opt_str(p, f) for f in ("customer", "subscription", "status")}
    return state.list_page(
        "invoice",
        p,
        "/v1/invoices",
        lambda i: all(v is None or invoice_field(i, f) == v for f, v in wanted.items()),
    )


def invoice_field(invoice: StripeObject, field: str) -> Any:
    """An invoice's ``customer``, ``status`` or ``subscription`` (the last through
    ``parent.subscription_details``, where this API version keeps it)."""
    if field != "subscription":
        return invoice[field]
    parent = invoice["parent"] or {}
    return (parent.get("subscription_details") or {}).get("subscription")


# Subscriptions -----------------------------------------------------------------------------


PRORATION_BEHAVIORS = ("always_invoice", "create_prorations", "none")


def _day(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%d %b %Y")


def _price_change(
    state: StripeState, subscription: StripeObject, params: dict[str, Any], prefix: str
) -> tuple[list[StripeObject], list[StripeObject]]:
    """``items`` (each ``id`` and a new ``price``) and ``proration_behavior`` applied to a
    copy of the subscription's items: the new items, and the prorations
    (``create_prorations``, the default): a credit for the unused time on each old price and
    a charge for the remaining time on the new one, to the second. Nothing is stored."""

    def name(*parts: object) -> str:
        head = f"{prefix}[{parts[0]}]" if prefix else str(parts[0])
        return head + "".join(f"[{part}]" for part in parts[1:])

    changes = opt_list(params, "items")
    behavior = opt_choice(params, "proration_behavior", PRORATION_BEHAVIORS)
    items = copy.deepcopy(subscription["items"]["data"])
    prorations: list[StripeObject] = []
    at = opt_int(params, "proration_date") or now()
    start, end = period_of(subscription)
    if not start <= at <= end:
        raise parameter_invalid(
            name("proration_date"), "proration_date must be within the current period."
        )
    for index, change in enumerate(changes):
        param = name("items", index)
        if not isinstance(change, dict):
            raise parameter_invalid(param, "Invalid object")
        item_id = opt_str(change, "id")
        item = next((i for i in items if i["id"] == item_id), None)
        if item is None:
            raise parameter_invalid(
                f"{param}[id]",
                "The emulator changes the price of an existing item only: pass its id.",
            )
        price = state.get(
            "price", req_str_param(change, "price", f"{param}[price]"), f"{param}[price]"
        )
        old = item["price"]
        if not price["active"]:
            raise StripeError(
                f"The price specified ({price['id']}) is inactive.", param=f"{param}[price]"
            )
        if (
            price["type"] != "recurring"
            or price["currency"] != old["currency"]
            or (price["recurring"]["interval"], price["recurring"]["interval_count"])
            != (old["recurring"]["interval"], old["recurring"]["interval_count"])
        ):
            raise parameter_invalid(
                f"{param}[price]",
                "The emulator changes to a recurring price of the same currency and interval.",
            )
        if price["id"] == old["id"]:
            continue
        item.update({"price": copy.deepcopy(price), "plan": plan_of(price)})
        if behavior == "none":
            continue
        for unit, sign, words in ((old, -1, "Unused time on"), (price, 1, "Remaining time on")):
            amount = sign * round(
                unit["unit_amount"] * item["quantity"] * (end - at) / (end - start)
            )
            product = state.objects["product"][unit["product"]]
            prorations.append(
                {
                    "id": random_id("ii_"),
                    "object": "invoiceitem",
                    "amount": amount,
                    "currency": unit["currency"],
                    "customer": subscription["customer"],
                    "date": at,
                    "description": f"{words} {product['name']} after {_day(at)}",
                    "discountable": False,
                    "discounts": [],
                    "invoice": None,
                    "livemode": False,
                    "metadata": {},
                    "net_amount": amount,
                    "parent": {
                        "subscription_details": {
                            "subscription": subscription["id"],
                            "subscription_item": item["id"],
                        },
                        "type": "subscription_details",
                    },
                    "period": {"start": at, "end": end},
                    "pricing": {
                        "price_details": {"price": unit["id"], "product": product["id"]},
                        "type": "price_details",
                        "unit_amount_decimal": unit["unit_amount_decimal"],
                    },
                    "proration": True,
                    "proration_details": {"discount_amounts": []},
                    "quantity": item["quantity"],
                    "quantity_decimal": str(item["quantity"]),
                    "tax_rates": [],
                    "test_clock": None,
                }
            )
    return items, prorations


def req_str_param(params: dict[str, Any], name: str, param: str) -> str:
    """A required string of a nested parameter, named by its full name when missing."""
    value = opt_str(params, name)
    if value is None:
        raise parameter_missing(param)
    return value


@accepts(
    {
        "cancel_at_period_end": None,
        "metadata": ANY_KEYS,
        "items": {"id": None, "price": None},
        "proration_behavior": None,
        "proration_date": None,
    }
)
def update_subscription(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/subscriptions/{id}``: ``cancel_at_period_end``, metadata, and a price
    change of its items (``items[i][id]``, ``items[i][price]``) with ``proration_behavior``:
    ``create_prorations`` (the default: the prorations wait as invoice items for the next
    invoice, each announced by ``invoiceitem.created``), ``always_invoice`` (they are
    invoiced and paid at once: ``invoice.paid`` and ``invoice.payment_succeeded`` after
    ``customer.subscription.updated``, the invoice's ``billing_reason`` is
    ``subscription_update``) or ``none``."""
    subscription = state.get("subscription", call.object_id)
    p = call.params
    new: dict[str, Any] = {"metadata": metadata(p, subscription["metadata"])}
    prorations: list[StripeObject] = []
    if "items" in p:
        if subscription["status"] == "canceled":
            raise StripeError("A canceled subscription cannot change its items.", param="items")
        items, prorations = _price_change(state, subscription, p, "")
        if items != subscription["items"]["data"]:
            new["items"] = {**subscription["items"], "data": items}
        for item in prorations:
            state.add("invoiceitem", item)
            state.pending_items[item["id"]] = item
            state.emit("invoiceitem.created", item)
    invoice = None
    if prorations and opt_str(p, "proration_behavior") == "always_invoice":
        invoice = _create_invoice(
            state,
            state.get("customer", subscription["customer"], "customer"),
            {**subscription, **new},
            [],
            None,
            billing_reason="subscription_update",
            paid=True,
            pending=_pending_of(state, subscription["id"]),
        )
        new["latest_invoice"] = invoice["id"]
    cancel_at_period_end = opt_bool(p, "cancel_at_period_end")
    if subscription["status"] == "canceled" and cancel_at_period_end is not None:
        raise StripeError(
            "A canceled subscription can only update its cancellation_details and metadata.",
            param="cancel_at_period_end",
        )
    if cancel_at_period_end is not None:
        new["cancel_at_period_end"] = cancel_at_period_end
        new["cancel_at"] = period_of(subscription)[1] if cancel_at_period_end else None
        new["canceled_at"] = now() if cancel_at_period_end else None
    previous = {f: subscription.get(f) for f in new if subscription.get(f) != new[f]}
    subscription.update(new)
    if previous:
        state.emit("customer.subscription.updated", subscription, previous)
    if invoice is not None:
        state.emit("invoice.paid", invoice)
        state.emit("invoice.payment_succeeded", invoice)
    return subscription


@accepts({})
def cancel_subscription(state: StripeState, call: ApiCall) -> StripeObject:
    """``DELETE /v1/subscriptions/{id}``: canceled now, ``customer.subscription.deleted``."""
    subscription = state.get("subscription", call.object_id)
    if subscription["status"] == "canceled":
        raise StripeError(
            f"This subscription is already canceled: {subscription['id']}",
            param="id",
            code="resource_missing",
            status=404,
        )
    _end_subscription(state, subscription)
    return subscription


def _end_subscription(state: StripeState, subscription: StripeObject) -> None:
    at = now()
    subscription.update(
        {"status": "canceled", "canceled_at": subscription["canceled_at"] or at, "ended_at": at}
    )
    state.emit("customer.subscription.deleted", subscription)


@accepts({**LIST_PARAMS, "customer": None, "price": None, "status": None})
def list_subscriptions(state: StripeState, call: ApiCall) -> StripeObject:
    """``GET /v1/subscriptions`` (``customer``, ``price``, ``status``; canceled ones only with
    ``status=canceled`` or ``status=all``, as in Stripe)."""
    p = call.params
    customer, price, status = opt_str(p, "customer"), opt_str(p, "price"), opt_str(p, "status")

    def keep(sub: StripeObject) -> bool:
        if status is None and sub["status"] == "canceled":
            return False
        if status not in (None, "all") and sub["status"] != status:
            return False
        if price is not None and all(i["price"]["id"] != price for i in sub["items"]["data"]):
            return False
        return customer is None or sub["customer"] == customer

    return state.list_page("subscription", p, "/v1/subscriptions", keep)


def renew_subscription(state: StripeState, subscription_id: str, *, fail: bool) -> StripeObject:
    """The end of the current period, now: a subscription set to cancel at period end is
    canceled; otherwise the next period starts with an invoice that is paid (``invoice.paid``,
    status ``active``) or declined (``invoice.payment_failed``, status ``past_due``)."""
    subscription = state.get("subscription", subscription_id)
    if subscription["status"] == "canceled":
        raise StripeError("A canceled subscription does not renew.", param="id")
    if subscription["cancel_at_period_end"]:
        _end_subscription(state, subscription)
        return subscription
    previous: dict[str, Any] = {
        "items": copy.deepcopy(subscription["items"]),
        "latest_invoice": subscription["latest_invoice"],
        "status": subscription["status"],
    }
    if subscription["status"] == "trialing":
        previous["trial_end"] = subscription["trial_end"]
    item_price = subscription["items"]["data"][0]["price"]
    start = period_of(subscription)[1]
    end = add_interval(
        start, item_price["recurring"]["interval"], item_price["recurring"]["interval_count"]
    )
    for item in subscription["items"]["data"]:
        item.update({"current_period_start": start, "current_period_end": end})
    discount = _discount_of(state, subscription, start)
    if discount is not None and state.discount_coupons[discount["id"]]["duration"] == "once":
        discount = None
    customer = state.get("customer", subscription["customer"], "customer")
    lines = [(i["price"], i["quantity"]) for i in subscription["items"]["data"]]
    invoice = _create_invoice(
        state,
        customer,
        subscription,
        lines,
        discount,
        billing_reason="subscription_cycle",
        paid=not fail,
        pending=_pending_of(state, subscription["id"]),
    )
    subscription["latest_invoice"] = invoice["id"]
    subscription["status"] = "past_due" if fail else "active"
    if fail:
        state.emit("invoice.payment_failed", invoice)
    else:
        state.emit("invoice.paid", invoice)
        state.emit("invoice.payment_succeeded", invoice)
    changed = {f: v for f, v in previous.items() if subscription[f] != v}
    state.emit("customer.subscription.updated", subscription, changed)
    return subscription


def _pending_of(state: StripeState, subscription_id: str) -> list[StripeObject]:
    return [
        item
        for item in state.pending_items.values()
        if item["parent"]["subscription_details"]["subscription"] == subscription_id
    ]


@accepts(
    {
        "customer": None,
        "subscription": None,
        "subscription_details": {
            "items": {"id": None, "price": None},
            "proration_behavior": None,
            "proration_date": None,
        },
    }
)
def preview_invoice(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/invoices/create_preview`` for a subscription: its next invoice (at the end
    of the current period), with the pending prorations and, given
    ``subscription_details[items]``, the price change and the prorations it would create.
    Nothing is stored and no event is sent."""
    p = call.params
    subscription_id = opt_str(p, "subscription")
    if subscription_id is None:
        raise parameter_missing("subscription")
    subscription = state.get("subscription", subscription_id, "subscription")
    customer_id = opt_str(p, "customer")
    if customer_id is not None and customer_id != subscription["customer"]:
        raise parameter_invalid("customer", "The subscription belongs to another customer.")
    if subscription["status"] == "canceled":
        raise StripeError(
            "No upcoming invoices for a canceled subscription.", code="invoice_upcoming_none"
        )
    details = opt_dict(p, "subscription_details")
    items, prorations = _price_change(state, subscription, details, "subscription_details")
    end = period_of(subscription)[1]
    next_period = copy.deepcopy(subscription)
    next_end = add_interval(
        end,
        items[0]["price"]["recurring"]["interval"],
        items[0]["price"]["recurring"]["interval_count"],
    )
    for item in items:
        item.update({"current_period_start": end, "current_period_end": next_end})
    next_period["items"]["data"] = items
    discount = _discount_of(state, subscription, end)
    if discount is not None and state.discount_coupons[discount["id"]]["duration"] == "once":
        discount = None
    customer = state.get("customer", subscription["customer"], "customer")
    return _create_invoice(
        state,
        customer,
        next_period,
        [(i["price"], i["quantity"]) for i in items],
        discount,
        billing_reason="subscription_cycle",
        paid=False,
        pending=[*_pending_of(state, subscription_id), *prorations],
        preview=True,
    )


# Events ------------------------------------------------------------------------------------


@accepts({**LIST_PARAMS, "type": None, "types": None})
def list_events(state: StripeState, call: ApiCall) -> StripeObject:
    """``GET /v1/events`` (``type`` and ``types[]`` filters)."""
    p = call.params
    wanted = {str(t) for t in opt_list(p, "types")}
    if (single := opt_str(p, "type")) is not None:
        wanted.add(single)
    return state.list_page(
        "event",
        p,
        "/v1/events",
        lambda e: not wanted or e["type"] in wanted or _matches_wildcard(e["type"], wanted),
    )


def _matches_wildcard(event_type: str, patterns: set[str]) -> bool:
    return any(p.endswith(".*") and event_type.startswith(p[:-1]) for p in patterns)
