"""The official ``stripe`` library against the emulator: the objects Nudges creates, the
errors it must handle, idempotency, and the checkout a paying client goes through."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import stripe

from nudges_kit.stripe_version import STRIPE_API_VERSION


def _plan(client: stripe.StripeClient, amount: int = 2000) -> tuple[Any, Any]:
    product = client.v1.products.create(params={"name": "Gold", "metadata": {"plan_id": "p1"}})
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "unit_amount": amount,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "metadata": {"price_tier_id": "t1"},
        }
    )
    return product, price


def test_library_creates_and_reads_the_catalog(stripe_client: stripe.StripeClient) -> None:
    customer = stripe_client.v1.customers.create(
        params={"name": "Ada's Bakery", "metadata": {"client_id": "c-1"}}
    )
    product, price = _plan(stripe_client)
    coupon = stripe_client.v1.coupons.create(
        params={"percent_off": 20, "duration": "repeating", "duration_in_months": 3}
    )
    fixed = stripe_client.v1.coupons.create(
        params={"amount_off": 500, "currency": "usd", "duration": "once", "max_redemptions": 10}
    )
    promo = stripe_client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "SPRING20"}
    )

    assert customer.id.startswith("cus_")
    assert customer.object == "customer"
    assert customer.metadata["client_id"] == "c-1"
    assert customer.livemode is False
    assert product.id.startswith("prod_")
    assert product.active is True
    assert price.id.startswith("price_")
    assert price.product == product.id
    assert price.recurring is not None
    assert price.recurring.interval == "month"
    assert price.unit_amount == 2000
    assert price.type == "recurring"
    assert coupon.percent_off == 20
    assert coupon.duration_in_months == 3
    assert coupon.valid
    assert fixed.amount_off == 500
    assert fixed.currency == "usd"
    assert fixed.max_redemptions == 10
    assert promo.id.startswith("promo_")
    assert promo.code == "SPRING20"
    assert promo.active
    assert promo.promotion.coupon == coupon.id

    assert stripe_client.v1.customers.retrieve(customer.id).name == "Ada's Bakery"
    assert stripe_client.v1.prices.retrieve(price.id).unit_amount == 2000
    assert stripe_client.v1.coupons.retrieve(coupon.id).percent_off == 20
    listed = stripe_client.v1.prices.list(params={"product": product.id})
    assert [p.id for p in listed.data] == [price.id]


def test_lists_are_shaped_like_stripe_lists(stripe_url: str) -> None:
    auth = {"Authorization": "Bearer sk_test_x"}
    for i in range(3):
        httpx.post(f"{stripe_url}/v1/products", data={"name": f"P{i}"}, headers=auth)
    page = httpx.get(f"{stripe_url}/v1/products", params={"limit": 2}, headers=auth).json()
    assert page["object"] == "list"
    assert page["url"] == "/v1/products"
    assert [p["name"] for p in page["data"]] == ["P2", "P1"]
    assert page["has_more"] is True
    rest = httpx.get(
        f"{stripe_url}/v1/products",
        params={"limit": 2, "starting_after": page["data"][-1]["id"]},
        headers=auth,
    ).json()
    assert [p["name"] for p in rest["data"]] == ["P0"]
    assert rest["has_more"] is False


def test_updates_products_and_archives_prices_but_amounts_are_immutable(
    stripe_client: stripe.StripeClient,
) -> None:
    product, price = _plan(stripe_client)

    renamed = stripe_client.v1.products.update(
        product.id, params={"name": "Platinum", "active": False}
    )
    archived = stripe_client.v1.prices.update(price.id, params={"active": False})

    assert renamed.name == "Platinum"
    assert renamed.active is False
    assert archived.active is False
    assert archived.unit_amount == 2000
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.prices.update(price.id, params={"unit_amount": 2500})  # type: ignore[typeddict-unknown-key]
    assert raised.value.param == "unit_amount"
    assert raised.value.code == "parameter_unknown"


def test_errors_raise_the_library_exceptions(
    stripe_client: stripe.StripeClient, stripe_url: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.customers.retrieve("cus_doesnotexist")
    assert missing.value.http_status == 404
    assert missing.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as no_product:
        stripe_client.v1.prices.create(
            params={"product": "prod_nope", "unit_amount": 100, "currency": "usd"}
        )
    assert no_product.value.http_status == 400
    assert no_product.value.param == "product"
    with pytest.raises(stripe.InvalidRequestError) as no_name:
        stripe_client.v1.products.create(params={})  # type: ignore[typeddict-item]
    assert no_name.value.code == "parameter_missing"
    assert no_name.value.param == "name"
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.coupons.create(params={"percent_off": 10, "amount_off": 100})
    _, price = _plan(stripe_client)
    with pytest.raises(stripe.InvalidRequestError) as bad_interval:
        stripe_client.v1.prices.create(
            params={
                "product": price.product,  # type: ignore[typeddict-item]
                "unit_amount": 100,
                "currency": "usd",
                "recurring": {"interval": "fortnight"},  # type: ignore[typeddict-item]
            }
        )
    assert bad_interval.value.param == "interval"
    unauthenticated = httpx.post(f"{stripe_url}/v1/customers")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["type"] == "invalid_request_error"


def test_an_idempotency_key_creates_once_and_answers_the_same(
    stripe_client: stripe.StripeClient, stripe_url: str, harness: Any
) -> None:
    params: Any = {"email": "once@example.com"}
    first = stripe_client.v1.customers.create(params=params, options={"idempotency_key": "k-1"})
    again = stripe_client.v1.customers.create(params=params, options={"idempotency_key": "k-1"})

    assert again.id == first.id
    assert len(stripe_client.v1.customers.list().data) == 1
    assert len(harness.stripe_events(stripe_url, "customer.created")) == 1
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.customers.create(
            params={"email": "other@example.com"}, options={"idempotency_key": "k-1"}
        )


def test_module_level_api_base_works_too(stripe_url: str) -> None:
    saved = stripe.api_key, stripe.api_base
    stripe.api_key, stripe.api_base = "sk_test_module", stripe_url
    try:
        customer = stripe.Customer.create(email="module@example.com")
        assert stripe.Customer.retrieve(customer.id).email == "module@example.com"
    finally:
        stripe.api_key, stripe.api_base = saved


def _session(client: stripe.StripeClient, **extra: Any) -> tuple[Any, Any]:
    customer = client.v1.customers.create(params={"email": "pay@example.com"})
    _, price = _plan(client)
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": "https://nudges.test/paid?session={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://nudges.test/canceled",
            "metadata": {"client_id": "c-1", "price_tier_id": "t1"},
            "client_reference_id": "c-1",
            **extra,
        }
    )
    return session, price


def test_checkout_session_with_a_promotion_code(
    stripe_client: stripe.StripeClient, stripe_url: str
) -> None:
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 25, "duration": "forever"})
    promo = stripe_client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "QUARTER"}
    )

    session, price = _session(stripe_client, discounts=[{"promotion_code": promo.id}])

    assert session.id.startswith("cs_")
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.mode == "subscription"
    assert session.url == f"{stripe_url}/checkout/{session.id}"
    assert session.amount_subtotal == 2000
    assert session.amount_total == 1500
    assert session.metadata["client_id"] == "c-1"
    assert session.client_reference_id == "c-1"
    items = stripe_client.v1.checkout.sessions.line_items.list(session.id)
    assert items.data[0].price is not None
    assert items.data[0].price.id == price.id
    page = httpx.get(session.url)
    assert page.status_code == 200
    assert "Pay 15.00 USD" in page.text
    assert "Gold" in page.text


def test_completing_a_session_creates_an_active_subscription_and_a_paid_invoice(
    stripe_client: stripe.StripeClient, stripe_url: str
) -> None:
    coupon = stripe_client.v1.coupons.create(params={"amount_off": 500, "currency": "usd"})
    session, price = _session(stripe_client, discounts=[{"coupon": coupon.id}])

    done = httpx.post(f"{stripe_url}/_emulator/checkout/{session.id}/complete").json()

    completed = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription", "invoice"]}
    )
    assert completed.status == "complete"
    assert completed.payment_status == "paid"
    subscription: Any = completed.subscription
    assert subscription.id == done["subscription"]["id"]
    assert subscription.id.startswith("sub_")
    assert subscription.status == "active"
    assert subscription.cancel_at_period_end is False
    assert subscription["items"].data[0].price.id == price.id
    item = subscription["items"].data[0]
    assert item.current_period_end > item.current_period_start >= time.time() - 60
    assert "current_period_end" not in subscription  # on the items in this API version
    invoice: Any = completed.invoice
    assert invoice.id.startswith("in_")
    assert invoice.status == "paid"
    assert invoice.amount_paid == 1500
    assert invoice.parent.subscription_details.subscription == subscription.id
    assert "subscription" not in invoice
    assert "paid" not in invoice
    assert stripe_client.v1.coupons.retrieve(coupon.id).times_redeemed == 1
    again = httpx.post(f"{stripe_url}/_emulator/checkout/{session.id}/complete")
    assert again.status_code == 400


def test_failing_a_session_leaves_it_open_with_an_unpaid_invoice(
    stripe_client: stripe.StripeClient, stripe_url: str, harness: Any
) -> None:
    session, _ = _session(stripe_client)

    failed = httpx.post(f"{stripe_url}/_emulator/checkout/{session.id}/fail").json()

    assert failed["invoice"]["status"] == "open"
    assert failed["invoice"]["amount_paid"] == 0
    assert failed["invoice"]["metadata"]["checkout_session"] == session.id
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert [e["type"] for e in harness.stripe_events(stripe_url, "invoice.payment_failed")]
    paid = httpx.post(f"{stripe_url}/_emulator/checkout/{session.id}/complete")
    assert paid.json()["session"]["status"] == "complete"


def test_the_hosted_page_buttons_redirect_to_the_session_urls(
    stripe_client: stripe.StripeClient, stripe_url: str
) -> None:
    session, _ = _session(stripe_client)
    declined = httpx.post(f"{stripe_url}/_emulator/checkout/{session.id}/fail?redirect=true")
    paid = httpx.post(f"{stripe_url}/_emulator/checkout/{session.id}/complete?redirect=true")

    assert declined.status_code == 303
    assert declined.headers["location"] == "https://nudges.test/canceled"
    assert paid.status_code == 303
    assert paid.headers["location"] == f"https://nudges.test/paid?session={session.id}"


def test_expiring_a_session(stripe_client: stripe.StripeClient, stripe_url: str) -> None:
    session, _ = _session(stripe_client)
    expired = stripe_client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    assert expired.url is None
    assert httpx.post(f"{stripe_url}/_emulator/checkout/{session.id}/complete").status_code == 400


def test_subscriptions_cancel_at_period_end_renew_and_cancel(
    stripe_client: stripe.StripeClient, stripe_url: str, harness: Any
) -> None:
    session, _ = _session(stripe_client)
    done = httpx.post(f"{stripe_url}/_emulator/checkout/{session.id}/complete").json()
    sub_id = done["subscription"]["id"]

    scheduled = stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
    assert scheduled.cancel_at_period_end is True
    stripe_client.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": False})
    renewed = httpx.post(f"{stripe_url}/_emulator/subscriptions/{sub_id}/renew?fail=true").json()
    assert renewed["status"] == "past_due"
    first_item = done["subscription"]["items"]["data"][0]
    item = renewed["items"]["data"][0]
    assert item["current_period_start"] == first_item["current_period_end"]
    canceled = stripe_client.v1.subscriptions.cancel(sub_id)

    assert canceled.status == "canceled"
    assert canceled.ended_at is not None
    types = [e["type"] for e in harness.stripe_events(stripe_url)]
    assert types.count("customer.subscription.updated") == 3
    assert types[-1] == "customer.subscription.deleted"
    assert "invoice.payment_failed" in types


def test_the_emulator_speaks_only_the_pinned_api_version(stripe_url: str) -> None:
    pinned = stripe.StripeClient(
        "sk_test_emulator",
        base_addresses={"api": stripe_url},
        stripe_version=STRIPE_API_VERSION,
        max_network_retries=0,
    )
    customer = pinned.v1.customers.create(params={"email": "pinned@example.com"})
    assert customer.last_response is not None
    assert customer.last_response.headers["Stripe-Version"] == stripe.api_version
    older = stripe.StripeClient(
        "sk_test_emulator",
        base_addresses={"api": stripe_url},
        stripe_version="2024-06-20",
        max_network_retries=0,
    )
    with pytest.raises(stripe.InvalidRequestError) as refused:
        older.v1.customers.retrieve(customer.id)
    assert refused.value.http_status == 400
    assert "2024-06-20" in str(refused.value.user_message)
    assert stripe.api_version == STRIPE_API_VERSION


def test_unknown_and_unimplemented_parameters_are_refused_by_name(
    stripe_client: stripe.StripeClient, stripe_url: str
) -> None:
    made_up = httpx.post(
        f"{stripe_url}/v1/customers",
        data={"email": "x@example.com", "colour": "blue"},
        auth=("sk_test_emulator", ""),
    )
    assert made_up.status_code == 400
    error = made_up.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "parameter_unknown"
    assert error["param"] == "colour"
    assert "colour" in error["message"]
    assert stripe_client.v1.customers.list().data == []  # nothing was created
    session, _ = _session(stripe_client)
    nested = httpx.post(
        f"{stripe_url}/v1/checkout/sessions",
        data={
            "mode": "subscription",
            "line_items[0][price]": session.id,
            "line_items[0][adjustable_quantity][enabled]": "true",
        },
        auth=("sk_test_emulator", ""),
    )
    assert nested.json()["error"]["param"] == "line_items[0][adjustable_quantity]"
    # Stripe knows tax_exempt; the emulator does not implement it, so it refuses it.
    with pytest.raises(stripe.InvalidRequestError) as unimplemented:
        stripe_client.v1.customers.create(params={"tax_exempt": "exempt"})  # type: ignore[typeddict-item]
    assert unimplemented.value.code == "parameter_unknown"
    assert unimplemented.value.param == "tax_exempt"


def test_unsupported_endpoints_answer_stripes_404(stripe_url: str) -> None:
    answer = httpx.get(f"{stripe_url}/v1/charges", auth=("sk_test_emulator", ""))
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Unrecognized request URL (GET: /v1/charges)")


def test_customer_search_by_metadata(stripe_client: stripe.StripeClient) -> None:
    ann = stripe_client.v1.customers.create(
        params={"email": "ann@example.com", "metadata": {"client_id": "c-ann", "slug": "ann"}}
    )
    stripe_client.v1.customers.create(
        params={"email": "bob@example.com", "metadata": {"client_id": "c-bob"}}
    )
    found = stripe_client.v1.customers.search(params={"query": "metadata['client_id']:'c-ann'"})
    assert [c.id for c in found.data] == [ann.id]
    both = stripe_client.v1.customers.search(
        params={"query": "metadata['client_id']:'c-ann' AND email:'ann@example.com'"}
    )
    assert [c.id for c in both.data] == [ann.id]
    none = stripe_client.v1.customers.search(params={"query": "metadata['slug']:'zed'"})
    assert none.data == []
    with pytest.raises(stripe.InvalidRequestError) as bad:
        stripe_client.v1.customers.search(params={"query": "created>100"})
    assert bad.value.param == "query"


def _subscribed(client: stripe.StripeClient, url: str, **extra: Any) -> tuple[Any, Any]:
    session, price = _session(client, **extra)
    done = httpx.post(f"{url}/_emulator/checkout/{session.id}/complete").json()
    return client.v1.subscriptions.retrieve(done["subscription"]["id"]), price


def test_a_price_change_prorates_and_bills_the_prorations_at_renewal(
    stripe_client: stripe.StripeClient, stripe_url: str, harness: Any
) -> None:
    sub, price = _subscribed(stripe_client, stripe_url)
    item = sub["items"].data[0]
    dearer = stripe_client.v1.prices.create(
        params={
            "product": price.product,
            "unit_amount": 5000,
            "currency": "usd",
            "recurring": {"interval": "month"},
        }
    )
    change: Any = {"items": [{"id": item.id, "price": dearer.id}]}
    preview = stripe_client.v1.invoices.create_preview(
        params={"subscription": sub.id, "subscription_details": change}
    )
    assert preview.id.startswith("upcoming_in_")
    assert [line.amount for line in preview.lines.data] == [5000, -2000, 5000]
    assert stripe_client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id == price.id

    changed = stripe_client.v1.subscriptions.update(
        sub.id, params={**change, "proration_behavior": "create_prorations"}
    )

    assert changed["items"].data[0].price.id == dearer.id
    assert changed["items"].data[0].id == item.id
    updated = harness.stripe_events(stripe_url, "customer.subscription.updated")[-1]["event"]
    before = updated["data"]["previous_attributes"]["items"]["data"][0]
    assert before["price"]["id"] == price.id
    assert len(harness.stripe_events(stripe_url, "invoiceitem.created")) == 2
    renewed = httpx.post(f"{stripe_url}/_emulator/subscriptions/{sub.id}/renew").json()
    invoice = stripe_client.v1.invoices.retrieve(renewed["latest_invoice"])
    assert invoice.amount_due == 5000 - 2000 + 5000
    assert [line.parent.type for line in invoice.lines.data] == [
        "subscription_item_details",
        "invoice_item_details",
        "invoice_item_details",
    ]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.subscriptions.update(
            sub.id, params={**change, "proration_behavior": "sometimes"}
        )
    assert refused.value.param == "proration_behavior"


def test_a_price_change_with_always_invoice_bills_the_prorations_at_once(
    stripe_client: stripe.StripeClient, stripe_url: str, harness: Any
) -> None:
    sub, price = _subscribed(stripe_client, stripe_url)
    item = sub["items"].data[0]
    dearer = stripe_client.v1.prices.create(
        params={
            "product": price.product,
            "unit_amount": 5000,
            "currency": "usd",
            "recurring": {"interval": "month"},
        }
    )
    paid_before = len(harness.stripe_events(stripe_url, "invoice.paid"))

    changed = stripe_client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": item.id, "price": dearer.id}],
            "proration_behavior": "always_invoice",
        },
    )

    assert changed["items"].data[0].price.id == dearer.id
    assert changed.latest_invoice != sub.latest_invoice
    invoice = stripe_client.v1.invoices.retrieve(changed.latest_invoice)
    assert invoice.billing_reason == "subscription_update"
    assert invoice.status == "paid"
    assert [line.parent.type for line in invoice.lines.data] == [
        "invoice_item_details",
        "invoice_item_details",
    ]
    # A credit for the unused old price and a charge for the new one: about 5000 - 2000.
    assert 2990 <= invoice.amount_paid <= 3000
    assert invoice.parent.subscription_details.subscription == sub.id
    paid = harness.stripe_events(stripe_url, "invoice.paid")
    assert len(paid) == paid_before + 1
    assert paid[-1]["event"]["data"]["object"]["id"] == invoice.id
    assert (
        harness.stripe_events(stripe_url, "invoice.payment_succeeded")[-1]["event"]["data"][
            "object"
        ]["id"]
        == invoice.id
    )
    # Nothing is left for the renewal but the new price.
    renewed = httpx.post(f"{stripe_url}/_emulator/subscriptions/{sub.id}/renew").json()
    assert stripe_client.v1.invoices.retrieve(renewed["latest_invoice"]).amount_due == 5000


def test_a_price_change_without_prorations_creates_no_invoice_items(
    stripe_client: stripe.StripeClient, stripe_url: str, harness: Any
) -> None:
    sub, price = _subscribed(stripe_client, stripe_url)
    cheaper = stripe_client.v1.prices.create(
        params={
            "product": price.product,
            "unit_amount": 500,
            "currency": "usd",
            "recurring": {"interval": "month"},
        }
    )
    stripe_client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": sub["items"].data[0].id, "price": cheaper.id}],
            "proration_behavior": "none",
        },
    )
    assert harness.stripe_events(stripe_url, "invoiceitem.created") == []
    renewed = httpx.post(f"{stripe_url}/_emulator/subscriptions/{sub.id}/renew").json()
    assert stripe_client.v1.invoices.retrieve(renewed["latest_invoice"]).amount_due == 500


def test_a_trial_starts_free_is_announced_and_ends_in_a_paid_period(
    stripe_client: stripe.StripeClient, stripe_url: str, harness: Any
) -> None:
    sub, _ = _subscribed(stripe_client, stripe_url, subscription_data={"trial_period_days": 7})
    assert sub.status == "trialing"
    assert sub.trial_end - sub.trial_start == 7 * 24 * 3600
    assert sub["items"].data[0].current_period_end == sub.trial_end
    first = stripe_client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert first.amount_due == 0
    httpx.post(f"{stripe_url}/_emulator/subscriptions/{sub.id}/trial_will_end").raise_for_status()
    assert harness.stripe_events(stripe_url, "customer.subscription.trial_will_end")
    ended = httpx.post(f"{stripe_url}/_emulator/subscriptions/{sub.id}/renew").json()
    assert ended["status"] == "active"
    assert ended["items"]["data"][0]["current_period_start"] == sub.trial_end
    assert stripe_client.v1.invoices.retrieve(ended["latest_invoice"]).amount_due == 2000


def test_the_billing_portal_lets_the_customer_cancel_at_period_end(
    stripe_client: stripe.StripeClient, stripe_url: str
) -> None:
    sub, _ = _subscribed(stripe_client, stripe_url)
    portal = stripe_client.v1.billing_portal.sessions.create(
        params={"customer": str(sub.customer), "return_url": "https://nudges.test/account"}
    )
    assert portal.url.startswith(f"{stripe_url}/billing_portal/")
    page = httpx.get(portal.url)
    assert page.status_code == 200
    assert "Cancel at period end" in page.text
    assert 'href="https://nudges.test/account"' in page.text
    clicked = httpx.post(f"{portal.url}/subscriptions/{sub.id}/cancel")
    assert clicked.status_code == 303
    assert stripe_client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is True
    assert "Keep my plan" in httpx.get(portal.url).text
