"""Every object the Stripe emulator answers and every webhook it sends, over the flows
Nudges goes through, has the shape the pinned ``stripe`` library declares for its API
version: no undeclared field, every required one, ids where Stripe answers ids, documented
enum values. No network: the library's own declarations are the reference."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from nudges_emulators.contract import StripeShapes

KEY = ("sk_test_emulator", "")


class Recorder:
    """Calls the emulator over HTTP and checks each answer against the library's shapes."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, auth=KEY, timeout=10)
        self.shapes = StripeShapes()
        self.violations: list[str] = []
        self.checked: set[str] = set()

    def call(self, method: str, path: str, expand: tuple[str, ...] = (), **params: Any) -> Any:
        form = {**params, **{f"expand[{i}]": e for i, e in enumerate(expand)}}
        if method == "GET":
            answer = self.http.get(path, params=form)
        else:
            answer = self.http.request(method, path, data=form)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        self.check(body, expand, f"{method} {path}")
        return body

    def check(self, body: dict[str, Any], expand: tuple[str, ...] = (), where: str = "") -> None:
        self.checked.add(str(body.get("object")))
        self.violations += [f"{where}: {v}" for v in self.shapes.check(body, expand)]

    def control(self, path: str, **params: Any) -> Any:
        answer = self.http.post(path, params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if "object" in body:
            self.check(body, (), f"POST {path}")
        else:
            for name, obj in body.items():
                self.check(obj, (), f"POST {path} ({name})")
        return body


@pytest.fixture
def recorder(stripe_url: str) -> Recorder:
    return Recorder(stripe_url)


def _flow(r: Recorder) -> dict[str, Any]:
    """A client, a plan with a price, a discount code, a checkout paid with it, renewals
    paid and declined, a cancellation at period end; a second checkout declined, then
    expired; a third canceled at once."""
    customer = r.call(
        "POST",
        "/v1/customers",
        name="Book Club",
        **{"preferred_locales[0]": "en", "metadata[client_id]": "c-1", "metadata[slug]": "bc"},
    )
    r.call("POST", f"/v1/customers/{customer['id']}", name="Book Club II")
    r.call("GET", f"/v1/customers/{customer['id']}")
    r.call("GET", "/v1/customers", email="nobody@example.com")
    r.call("GET", "/v1/customers/search", query="metadata['client_id']:'c-1'")
    product = r.call(
        "POST", "/v1/products", name="Pro", active="true", **{"metadata[plan_id]": "p"}
    )
    r.call("POST", f"/v1/products/{product['id']}", description="The pro plan")
    price = r.call(
        "POST",
        "/v1/prices",
        product=product["id"],
        unit_amount="900",
        currency="usd",
        nickname="Monthly",
        **{"recurring[interval]": "month", "metadata[price_tier_id]": "t"},
    )
    old = r.call(
        "POST",
        "/v1/prices",
        product=product["id"],
        unit_amount="800",
        currency="usd",
        **{"recurring[interval]": "month"},
    )
    r.call("POST", f"/v1/prices/{old['id']}", active="false")
    r.call("GET", "/v1/prices", product=product["id"])
    coupon = r.call(
        "POST",
        "/v1/coupons",
        percent_off="20",
        duration="repeating",
        duration_in_months="3",
        name="WELCOME",
        max_redemptions="5",
    )
    r.call("POST", "/v1/coupons", amount_off="100", currency="usd", duration="once")
    promo = r.call(
        "POST",
        "/v1/promotion_codes",
        code="WELCOME",
        **{"promotion[type]": "coupon", "promotion[coupon]": coupon["id"]},
    )
    r.call("GET", "/v1/promotion_codes", code="WELCOME", active="true")
    r.call("GET", f"/v1/coupons/{coupon['id']}")
    checkout = {
        "mode": "subscription",
        "customer": customer["id"],
        "line_items[0][price]": price["id"],
        "line_items[0][quantity]": "1",
        "success_url": "https://nudges.test/ok",
        "cancel_url": "https://nudges.test/cancel",
        "client_reference_id": "c-1",
        "metadata[client_id]": "c-1",
        "subscription_data[metadata][client_id]": "c-1",
    }
    session = r.call(
        "POST",
        "/v1/checkout/sessions",
        **checkout,
        **{"discounts[0][promotion_code]": promo["id"]},
    )
    r.call("GET", f"/v1/checkout/sessions/{session['id']}", expand=("line_items",))
    r.call("GET", f"/v1/checkout/sessions/{session['id']}/line_items")
    paid = r.control(f"/_emulator/checkout/{session['id']}/complete")
    sub_id = paid["subscription"]["id"]
    r.call("GET", f"/v1/subscriptions/{sub_id}")
    r.call("GET", f"/v1/subscriptions/{sub_id}", expand=("discounts", "customer"))
    r.call("GET", "/v1/subscriptions", customer=customer["id"])
    r.call("GET", f"/v1/promotion_codes/{promo['id']}")
    r.call("GET", "/v1/invoices", subscription=sub_id)
    r.call("GET", f"/v1/invoices/{paid['invoice']['id']}", expand=("discounts",))
    r.control(f"/_emulator/subscriptions/{sub_id}/renew")
    r.control(f"/_emulator/subscriptions/{sub_id}/renew", fail="true")
    r.call("POST", f"/v1/subscriptions/{sub_id}", cancel_at_period_end="true")
    r.control(f"/_emulator/subscriptions/{sub_id}/renew")
    declined = r.call("POST", "/v1/checkout/sessions", **checkout)
    r.control(f"/_emulator/checkout/{declined['id']}/fail")
    r.call("POST", f"/v1/checkout/sessions/{declined['id']}/expire")
    third = r.call("POST", "/v1/checkout/sessions", **checkout)
    third_done = r.control(f"/_emulator/checkout/{third['id']}/complete")["subscription"]
    third_sub = third_done["id"]
    # A plan change with prorations, previewed first, then billed at the renewal.
    dearer = r.call(
        "POST",
        "/v1/prices",
        product=product["id"],
        unit_amount="2900",
        currency="usd",
        **{"recurring[interval]": "month"},
    )
    change = {
        "subscription_details[items][0][id]": third_done["items"]["data"][0]["id"],
        "subscription_details[items][0][price]": dearer["id"],
        "subscription_details[proration_behavior]": "create_prorations",
    }
    r.call("POST", "/v1/invoices/create_preview", subscription=third_sub, **change)
    r.call(
        "POST",
        f"/v1/subscriptions/{third_sub}",
        **{
            k.removeprefix("subscription_details[").replace("]", "", 1): v
            for k, v in change.items()
        },
    )
    r.call("POST", "/v1/invoices/create_preview", subscription=third_sub)
    r.control(f"/_emulator/subscriptions/{third_sub}/renew")
    billed = r.call("GET", "/v1/invoices", subscription=third_sub, limit="1")["data"][0]
    for line in billed["lines"]["data"][1:]:
        r.call("GET", f"/v1/invoiceitems/{line['parent']['invoice_item_details']['invoice_item']}")
    # An upgrade invoiced at once.
    fourth = r.call("POST", "/v1/checkout/sessions", **checkout)
    fourth_done = r.control(f"/_emulator/checkout/{fourth['id']}/complete")["subscription"]
    dearest = r.call(
        "POST",
        "/v1/prices",
        product=product["id"],
        unit_amount="4900",
        currency="usd",
        **{"recurring[interval]": "month"},
    )
    upgraded = r.call(
        "POST",
        f"/v1/subscriptions/{fourth_done['id']}",
        **{
            "items[0][id]": fourth_done["items"]["data"][0]["id"],
            "items[0][price]": dearest["id"],
            "proration_behavior": "always_invoice",
        },
    )
    r.call("GET", f"/v1/invoices/{upgraded['latest_invoice']}")
    r.call("DELETE", f"/v1/subscriptions/{third_sub}")
    # A trial, announced before it ends, then the first paid period.
    trial = r.call(
        "POST",
        "/v1/checkout/sessions",
        **checkout,
        **{"subscription_data[trial_period_days]": "14"},
    )
    trial_sub = r.control(f"/_emulator/checkout/{trial['id']}/complete")["subscription"]["id"]
    r.control(f"/_emulator/subscriptions/{trial_sub}/trial_will_end")
    r.control(f"/_emulator/subscriptions/{trial_sub}/renew")
    r.call(
        "POST",
        "/v1/billing_portal/sessions",
        customer=customer["id"],
        return_url="https://nudges.test/account",
    )
    r.call("GET", "/v1/events", limit="100")
    return {"customer": customer, "subscription": sub_id}


def test_every_answer_has_the_shape_of_the_pinned_version(recorder: Recorder) -> None:
    _flow(recorder)
    assert recorder.violations == []
    assert {
        "customer",
        "product",
        "price",
        "coupon",
        "promotion_code",
        "checkout.session",
        "subscription",
        "invoice",
        "list",
        "search_result",
        "billing_portal.session",
        "invoiceitem",
    } <= recorder.checked


def test_every_webhook_has_the_shape_of_the_pinned_version(
    recorder: Recorder, rec: Any, harness: Any
) -> None:
    _flow(recorder)
    wanted = {e["id"] for e in harness.stripe_events(str(recorder.http.base_url))}

    def all_sent() -> list[Any] | None:
        # Every event by id: a count alone is reached early when one is delivered twice.
        got = rec.received("/stripe")
        return got if wanted <= {json.loads(r.body)["id"] for r in got} else None

    sent = harness.eventually(all_sent)
    types = set()
    for request in sent:
        event = json.loads(request.body)
        types.add(event["type"])
        recorder.check(event, (), f"webhook {event['type']}")
    assert recorder.violations == []
    assert {
        "customer.created",
        "product.created",
        "price.created",
        "coupon.created",
        "promotion_code.created",
        "checkout.session.completed",
        "checkout.session.expired",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "invoiceitem.created",
        "customer.subscription.trial_will_end",
    } <= types


def test_the_check_catches_what_stripe_removed() -> None:
    shapes = StripeShapes()
    old_invoice = {"object": "invoice", "id": "in_1", "subscription": "sub_1", "paid": True}
    found = shapes.check(old_invoice)
    assert any(v.startswith("invoice.subscription: not in") for v in found)
    assert any(v.startswith("invoice.paid: not in") for v in found)
    assert any(v.startswith("invoice.issuer: required") for v in found)
    session = {"object": "checkout.session", "ui_mode": "hosted"}
    assert any(v.startswith("checkout.session.ui_mode: 'hosted'") for v in shapes.check(session))
    sub = {"object": "subscription", "discounts": [{"id": "di_1", "object": "discount"}]}
    assert any("not expanded" in v for v in shapes.check(sub))
