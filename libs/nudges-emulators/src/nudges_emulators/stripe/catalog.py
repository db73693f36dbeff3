"""Customers, Products, Prices, Coupons and Promotion codes: what Nudges keeps in sync with
its plans, price tiers, clients and discount codes."""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

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
    opt_float,
    opt_int,
    opt_list,
    opt_str,
    reject_unknown,
    req_str,
)
from nudges_emulators.stripe.state import StripeObject, StripeState, now, random_id

INTERVALS = ("day", "week", "month", "year")
DURATIONS = ("once", "repeating", "forever")


def _changes(before: StripeObject, after: StripeObject, fields: list[str]) -> dict[str, Any]:
    """``previous_attributes`` of an update event: old values of the fields that changed."""
    return {f: before.get(f) for f in fields if before.get(f) != after.get(f)}


def _update(
    state: StripeState, kind: str, obj: StripeObject, new: dict[str, Any], event: str | None
) -> StripeObject:
    previous = _changes(obj, {**obj, **new}, list(new))
    obj.update(new)
    if previous and event:
        state.emit(event, obj, previous)
    return obj


# Customers ---------------------------------------------------------------------------------


@accepts(
    {
        "email": None,
        "name": None,
        "phone": None,
        "description": None,
        "metadata": ANY_KEYS,
        "preferred_locales": None,
    }
)
def create_customer(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/customers``."""
    p = call.params
    customer = state.add(
        "customer",
        {
            "id": random_id("cus_", 14),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": opt_str(p, "description"),
            "discount": None,
            "email": opt_str(p, "email"),
            "invoice_prefix": "".join(secrets.choice(string.ascii_uppercase) for _ in range(8)),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": metadata(p),
            "name": opt_str(p, "name"),
            "phone": opt_str(p, "phone"),
            "preferred_locales": [str(x) for x in opt_list(p, "preferred_locales")],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        },
    )
    state.emit("customer.created", customer)
    return customer


@accepts(
    {
        "email": None,
        "name": None,
        "phone": None,
        "description": None,
        "metadata": ANY_KEYS,
        "preferred_locales": None,
    }
)
def update_customer(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/customers/{id}``."""
    customer = state.get("customer", call.object_id)
    p = call.params
    new: dict[str, Any] = {"metadata": metadata(p, customer["metadata"])}
    for field in ("email", "name", "phone", "description"):
        if field in p:
            new[field] = opt_str(p, field)
    if "preferred_locales" in p:
        new["preferred_locales"] = [str(x) for x in opt_list(p, "preferred_locales")]
    return _update(state, "customer", customer, new, "customer.updated")


@accepts({})
def delete_customer(state: StripeState, call: ApiCall) -> StripeObject:
    """``DELETE /v1/customers/{id}``."""
    customer = state.get("customer", call.object_id)
    del state.objects["customer"][customer["id"]]
    state.emit("customer.deleted", customer)
    return {"id": customer["id"], "object": "customer", "deleted": True}


@accepts({**LIST_PARAMS, "email": None})
def list_customers(state: StripeState, call: ApiCall) -> StripeObject:
    """``GET /v1/customers`` (``email`` filter)."""
    email = opt_str(call.params, "email")
    return state.list_page(
        "customer", call.params, "/v1/customers", lambda c: email is None or c["email"] == email
    )


_SEARCH_TERM = re.compile(r"""\s*(metadata\['([^']*)'\]|email|name|phone):'([^']*)'\s*""")


@accepts({"query": None, "limit": None, "page": None})
def search_customers(state: StripeState, call: ApiCall) -> StripeObject:
    """``GET /v1/customers/search``: ``metadata['key']:'value'``, ``email:'...'``,
    ``name:'...'`` and ``phone:'...'`` terms joined by ``AND`` (exact matches; Stripe's
    other operators are refused as invalid queries). One page, newest first."""
    query = req_str(call.params, "query")
    limit = opt_int(call.params, "limit") or 10
    if not 1 <= limit <= 100:
        raise parameter_invalid("limit", "This value must be between 1 and 100.")
    if opt_str(call.params, "page") is not None:
        raise parameter_invalid("page", "Invalid page: the emulator answers a single page.")
    terms: list[tuple[str | None, str, str]] = []
    for part in re.split(r"\s+AND\s+", query.strip()):
        match = _SEARCH_TERM.fullmatch(part)
        if match is None:
            raise parameter_invalid("query", f"Invalid query: {query}", code="invalid_query")
        field, key, value = match.groups()
        terms.append((key, field, value) if key is not None else (None, field, value))

    def keep(customer: StripeObject) -> bool:
        return all(
            (customer["metadata"].get(key) if key is not None else customer[field]) == value
            for key, field, value in terms
        )

    rows = [c for c in reversed(state.objects["customer"].values()) if keep(c)]
    return {
        "object": "search_result",
        "data": rows[:limit],
        "has_more": len(rows) > limit,
        "next_page": None,
        "url": "/v1/customers/search",
    }


# Products ----------------------------------------------------------------------------------


@accepts(
    {
        "id": None,
        "name": None,
        "active": None,
        "description": None,
        "images": None,
        "metadata": ANY_KEYS,
        "statement_descriptor": None,
        "unit_label": None,
        "url": None,
    }
)
def create_product(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/products``."""
    p = call.params
    product_id = opt_str(p, "id") or random_id("prod_", 14)
    if product_id in state.objects["product"]:
        raise StripeError(
            f"Product already exists with ID {product_id}",
            param="id",
            code="resource_already_exists",
        )
    created = now()
    product = state.add(
        "product",
        {
            "id": product_id,
            "object": "product",
            "active": opt_bool(p, "active") is not False,
            "created": created,
            "default_price": None,
            "description": opt_str(p, "description"),
            "images": [str(x) for x in opt_list(p, "images")],
            "livemode": False,
            "marketing_features": [],
            "metadata": metadata(p),
            "name": req_str(p, "name"),
            "package_dimensions": None,
            "shippable": None,
            "statement_descriptor": opt_str(p, "statement_descriptor"),
            "tax_code": None,
            "type": "service",
            "unit_label": opt_str(p, "unit_label"),
            "updated": created,
            "url": opt_str(p, "url"),
        },
    )
    state.emit("product.created", product)
    return product


@accepts(
    {
        "name": None,
        "active": None,
        "description": None,
        "images": None,
        "metadata": ANY_KEYS,
        "statement_descriptor": None,
        "unit_label": None,
        "url": None,
        "default_price": None,
    }
)
def update_product(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/products/{id}`` (name, description, images, ``active``, metadata,
    ``default_price``)."""
    product = state.get("product", call.object_id)
    p = call.params
    new: dict[str, Any] = {"metadata": metadata(p, product["metadata"])}
    if "name" in p:
        new["name"] = req_str(p, "name")
    for field in ("description", "statement_descriptor", "unit_label", "url"):
        if field in p:
            new[field] = opt_str(p, field)
    if "images" in p:
        new["images"] = [str(x) for x in opt_list(p, "images")]
    if (active := opt_bool(p, "active")) is not None:
        new["active"] = active
    if "default_price" in p:
        price_id = opt_str(p, "default_price")
        if price_id is not None:
            price = state.get("price", price_id, "default_price")
            if price["product"] != product["id"]:
                raise parameter_invalid(
                    "default_price", "The default price must belong to this product."
                )
        new["default_price"] = price_id
    if _changes(product, {**product, **new}, list(new)):
        new["updated"] = now()
    return _update(state, "product", product, new, "product.updated")


@accepts({**LIST_PARAMS, "active": None})
def list_products(state: StripeState, call: ApiCall) -> StripeObject:
    """``GET /v1/products`` (``active`` filter)."""
    active = opt_bool(call.params, "active")
    return state.list_page(
        "product",
        call.params,
        "/v1/products",
        lambda prod: active is None or prod["active"] == active,
    )


# Prices ------------------------------------------------------------------------------------


@accepts(
    {
        "product": None,
        "product_data": {"name": None},
        "unit_amount": None,
        "unit_amount_decimal": None,
        "currency": None,
        "recurring": {"interval": None, "interval_count": None, "trial_period_days": None},
        "active": None,
        "lookup_key": None,
        "metadata": ANY_KEYS,
        "nickname": None,
        "tax_behavior": None,
    }
)
def create_price(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/prices``: ``product`` (or ``product_data[name]``), ``unit_amount``,
    ``currency`` and, for a recurring price, ``recurring[interval]``."""
    p = call.params
    currency = req_str(p, "currency").lower()
    if len(currency) != 3 or not currency.isalpha():
        raise parameter_invalid("currency", f"Invalid currency: {currency}")
    if "product" in p:
        product_id = state.get("product", req_str(p, "product"), "product")["id"]
    elif product_data := opt_dict(p, "product_data"):
        product_id = create_product(
            state, ApiCall("", {"name": req_str(product_data, "name")}, call.base_url)
        )["id"]
    else:
        raise parameter_missing("product")
    unit_amount = opt_int(p, "unit_amount")
    if unit_amount is None:
        decimal = opt_str(p, "unit_amount_decimal")
        if decimal is None:
            raise parameter_missing("unit_amount")
        unit_amount = int(float(decimal))
    if unit_amount < 0:
        raise parameter_invalid("unit_amount", "This value must be greater than or equal to 0.")
    recurring: dict[str, Any] | None = None
    if recurring_params := opt_dict(p, "recurring"):
        interval = opt_choice(recurring_params, "interval", INTERVALS)
        if interval is None:
            raise parameter_missing("recurring[interval]")
        interval_count = opt_int(recurring_params, "interval_count") or 1
        recurring = {
            "interval": interval,
            "interval_count": interval_count,
            "meter": None,
            "trial_period_days": opt_int(recurring_params, "trial_period_days"),
            "usage_type": "licensed",
        }
    price = state.add(
        "price",
        {
            "id": random_id("price_"),
            "object": "price",
            "active": opt_bool(p, "active") is not False,
            "billing_scheme": "per_unit",
            "created": now(),
            "currency": currency,
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": opt_str(p, "lookup_key"),
            "metadata": metadata(p),
            "nickname": opt_str(p, "nickname"),
            "product": product_id,
            "recurring": recurring,
            "tax_behavior": opt_str(p, "tax_behavior") or "unspecified",
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "recurring" if recurring else "one_time",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        },
    )
    state.emit("price.created", price)
    return price


@accepts({"active": None, "nickname": None, "lookup_key": None, "metadata": ANY_KEYS})
def update_price(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/prices/{id}``: only ``active``, nickname, lookup key and metadata change;
    the amount, currency, interval and product of a price are immutable, as in Stripe."""
    price = state.get("price", call.object_id)
    p = call.params
    reject_unknown(
        p, ("unit_amount", "unit_amount_decimal", "currency", "recurring", "product", "type")
    )
    new: dict[str, Any] = {"metadata": metadata(p, price["metadata"])}
    if (active := opt_bool(p, "active")) is not None:
        new["active"] = active
    for field in ("nickname", "lookup_key"):
        if field in p:
            new[field] = opt_str(p, field)
    return _update(state, "price", price, new, "price.updated")


@accepts({**LIST_PARAMS, "product": None, "active": None, "currency": None, "type": None})
def list_prices(state: StripeState, call: ApiCall) -> StripeObject:
    """``GET /v1/prices`` (``product``, ``active``, ``currency``, ``type`` filters)."""
    p = call.params
    product, active = opt_str(p, "product"), opt_bool(p, "active")
    currency, kind = opt_str(p, "currency"), opt_str(p, "type")

    def keep(price: StripeObject) -> bool:
        return (
            (product is None or price["product"] == product)
            and (active is None or price["active"] == active)
            and (currency is None or price["currency"] == currency)
            and (kind is None or price["type"] == kind)
        )

    return state.list_page("price", p, "/v1/prices", keep)


# Coupons -----------------------------------------------------------------------------------


def coupon_is_valid(coupon: StripeObject, at: int | None = None) -> bool:
    """Whether the coupon can still be redeemed (not past ``redeem_by``, redemptions left)."""
    at = now() if at is None else at
    if coupon["redeem_by"] is not None and at > coupon["redeem_by"]:
        return False
    limit = coupon["max_redemptions"]
    return bool(limit is None or coupon["times_redeemed"] < limit)


def _with_validity(coupon: StripeObject) -> StripeObject:
    coupon["valid"] = coupon_is_valid(coupon)
    return coupon


@accepts(
    {
        "id": None,
        "percent_off": None,
        "amount_off": None,
        "currency": None,
        "duration": None,
        "duration_in_months": None,
        "redeem_by": None,
        "max_redemptions": None,
        "metadata": ANY_KEYS,
        "name": None,
    }
)
def create_coupon(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/coupons``: ``percent_off`` or ``amount_off`` with ``currency``, and a
    duration (``repeating`` needs ``duration_in_months``)."""
    p = call.params
    coupon_id = opt_str(p, "id") or "".join(
        secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8)
    )
    if coupon_id in state.objects["coupon"]:
        raise StripeError("Coupon already exists.", param="id", code="resource_already_exists")
    percent_off, amount_off = opt_float(p, "percent_off"), opt_int(p, "amount_off")
    if (percent_off is None) == (amount_off is None):
        raise StripeError(
            "You must pass exactly one of percent_off or amount_off.", param="percent_off"
        )
    currency = opt_str(p, "currency")
    if percent_off is not None and not 0 < percent_off <= 100:
        raise parameter_invalid("percent_off", "percent_off must be between 0 and 100.")
    if amount_off is not None:
        if amount_off <= 0:
            raise parameter_invalid("amount_off", "amount_off must be a positive integer.")
        if currency is None:
            raise StripeError("You must pass currency when passing amount_off.", param="currency")
    duration = opt_choice(p, "duration", DURATIONS) or "once"
    months = opt_int(p, "duration_in_months")
    if duration == "repeating" and (months is None or months <= 0):
        raise parameter_missing("duration_in_months")
    if duration != "repeating" and months is not None:
        raise parameter_invalid(
            "duration_in_months", "duration_in_months is only valid for repeating coupons."
        )
    redeem_by = opt_int(p, "redeem_by")
    if redeem_by is not None and redeem_by <= now():
        raise parameter_invalid("redeem_by", "redeem_by must be in the future.")
    max_redemptions = opt_int(p, "max_redemptions")
    if max_redemptions is not None and max_redemptions <= 0:
        raise parameter_invalid("max_redemptions", "max_redemptions must be positive.")
    coupon = state.add(
        "coupon",
        {
            "id": coupon_id,
            "object": "coupon",
            "amount_off": amount_off,
            "created": now(),
            "currency": currency.lower() if currency else None,
            "duration": duration,
            "duration_in_months": months,
            "livemode": False,
            "max_redemptions": max_redemptions,
            "metadata": metadata(p),
            "name": opt_str(p, "name"),
            "percent_off": percent_off,
            "redeem_by": redeem_by,
            "times_redeemed": 0,
            "valid": True,
        },
    )
    state.emit("coupon.created", coupon)
    return coupon


@accepts({})
def retrieve_coupon(state: StripeState, call: ApiCall) -> StripeObject:
    """``GET /v1/coupons/{id}``."""
    return _with_validity(state.get("coupon", call.object_id))


@accepts({"name": None, "metadata": ANY_KEYS})
def update_coupon(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/coupons/{id}``: only ``name`` and metadata change."""
    coupon = state.get("coupon", call.object_id)
    reject_unknown(
        call.params,
        ("percent_off", "amount_off", "currency", "duration", "duration_in_months", "redeem_by"),
    )
    new: dict[str, Any] = {"metadata": metadata(call.params, coupon["metadata"])}
    if "name" in call.params:
        new["name"] = opt_str(call.params, "name")
    return _update(state, "coupon", coupon, new, "coupon.updated")


@accepts({})
def delete_coupon(state: StripeState, call: ApiCall) -> StripeObject:
    """``DELETE /v1/coupons/{id}``: no new redemptions; existing discounts stay."""
    coupon = state.get("coupon", call.object_id)
    del state.objects["coupon"][coupon["id"]]
    state.emit("coupon.deleted", coupon)
    return {"id": coupon["id"], "object": "coupon", "deleted": True}


@accepts(LIST_PARAMS)
def list_coupons(state: StripeState, call: ApiCall) -> StripeObject:
    """``GET /v1/coupons``."""
    page = state.list_page("coupon", call.params, "/v1/coupons")
    for coupon in page["data"]:
        _with_validity(coupon)
    return page


# Promotion codes ---------------------------------------------------------------------------


def promotion_code_is_valid(state: StripeState, promo: StripeObject) -> bool:
    """Whether a customer could apply the code now."""
    coupon = state.objects["coupon"].get(promo["promotion"]["coupon"])
    if not promo["active"] or coupon is None or not coupon_is_valid(coupon):
        return False
    if promo["expires_at"] is not None and now() > promo["expires_at"]:
        return False
    limit = promo["max_redemptions"]
    return bool(limit is None or promo["times_redeemed"] < limit)


@accepts(
    {
        "promotion": {"type": None, "coupon": None},
        "code": None,
        "active": None,
        "customer": None,
        "expires_at": None,
        "max_redemptions": None,
        "metadata": ANY_KEYS,
    }
)
def create_promotion_code(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/promotion_codes``: ``promotion[type]=coupon`` and ``promotion[coupon]``,
    ``code``, ``active``, ``max_redemptions`` and ``expires_at``."""
    p = call.params
    promotion = opt_dict(p, "promotion")
    if opt_choice(promotion, "type", ("coupon",)) is None:
        raise parameter_missing("promotion[type]")
    coupon_id = opt_str(promotion, "coupon")
    if coupon_id is None:
        raise parameter_missing("promotion[coupon]")
    coupon = state.get("coupon", coupon_id, "promotion[coupon]")
    code = opt_str(p, "code") or "".join(
        secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8)
    )
    active = opt_bool(p, "active") is not False
    if active and any(
        other["active"] and other["code"].lower() == code.lower()
        for other in state.objects["promotion_code"].values()
    ):
        raise StripeError(
            f"An active promotion code with `code: {code}` already exists.",
            param="code",
            code="resource_already_exists",
        )
    expires_at = opt_int(p, "expires_at")
    if expires_at is not None and expires_at <= now():
        raise parameter_invalid("expires_at", "expires_at must be in the future.")
    max_redemptions = opt_int(p, "max_redemptions")
    if max_redemptions is not None and max_redemptions <= 0:
        raise parameter_invalid("max_redemptions", "max_redemptions must be positive.")
    promo = state.add(
        "promotion_code",
        {
            "id": random_id("promo_"),
            "object": "promotion_code",
            "active": active,
            "code": code,
            "created": now(),
            "customer": opt_str(p, "customer"),
            "expires_at": expires_at,
            "livemode": False,
            "max_redemptions": max_redemptions,
            "metadata": metadata(p),
            "promotion": {"type": "coupon", "coupon": coupon["id"]},
            "restrictions": {
                "first_time_transaction": False,
                "minimum_amount": None,
                "minimum_amount_currency": None,
            },
            "times_redeemed": 0,
        },
    )
    state.emit("promotion_code.created", promo)
    return promo


@accepts({"active": None, "metadata": ANY_KEYS})
def update_promotion_code(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/promotion_codes/{id}``: ``active`` and metadata."""
    promo = state.get("promotion_code", call.object_id)
    reject_unknown(call.params, ("code", "coupon", "promotion", "expires_at", "max_redemptions"))
    new: dict[str, Any] = {"metadata": metadata(call.params, promo["metadata"])}
    if (active := opt_bool(call.params, "active")) is not None:
        new["active"] = active
    return _update(state, "promotion_code", promo, new, "promotion_code.updated")


@accepts({**LIST_PARAMS, "code": None, "coupon": None, "active": None})
def list_promotion_codes(state: StripeState, call: ApiCall) -> StripeObject:
    """``GET /v1/promotion_codes`` (``code``, ``coupon``, ``active`` filters)."""
    p = call.params
    code, coupon, active = opt_str(p, "code"), opt_str(p, "coupon"), opt_bool(p, "active")

    def keep(promo: StripeObject) -> bool:
        return (
            (code is None or promo["code"].lower() == code.lower())
            and (coupon is None or promo["promotion"]["coupon"] == coupon)
            and (active is None or promo["active"] == active)
        )

    return state.list_page("promotion_code", p, "/v1/promotion_codes", keep)
