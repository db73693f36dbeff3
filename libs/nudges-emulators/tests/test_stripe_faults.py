"""``/_emulator/faults`` of the Stripe emulator: forced 429 and 5xx answers the ``stripe``
library raises as Stripe's own, and late answers of calls already carried out."""

from __future__ import annotations

import httpx
import pytest
import stripe


def _faults(url: str, **change: object) -> dict[str, object]:
    response = httpx.post(f"{url}/_emulator/faults", json=change)
    response.raise_for_status()
    body: dict[str, object] = response.json()
    return body


def test_forced_rate_limit_then_success(
    stripe_url: str, stripe_client: stripe.StripeClient
) -> None:
    _faults(stripe_url, errors={"status": 429, "count": 2})

    for _ in range(2):
        with pytest.raises(stripe.RateLimitError):
            stripe_client.v1.products.create(params={"name": "Gold"})
    product = stripe_client.v1.products.create(params={"name": "Gold"})

    assert product.id.startswith("prod_")
    assert [p.id for p in stripe_client.v1.products.list().data] == [product.id]
    assert httpx.get(f"{stripe_url}/_emulator/faults").json()["errors"]["count"] == 0


def test_forced_server_errors_change_nothing(
    stripe_url: str, stripe_client: stripe.StripeClient
) -> None:
    _faults(stripe_url, errors={"status": 500, "count": 1})

    with pytest.raises(stripe.APIError) as raised:
        stripe_client.v1.customers.create(params={"name": "Ada"})

    assert raised.value.http_status == 500
    assert stripe_client.v1.customers.list().data == []


def test_the_library_retries_a_server_error_with_the_same_idempotency_key(
    stripe_url: str,
) -> None:
    client = stripe.StripeClient(
        "sk_test_emulator", base_addresses={"api": stripe_url}, max_network_retries=2
    )
    _faults(stripe_url, errors={"status": 503, "count": 2})

    customer = client.v1.customers.create(params={"name": "Ada"})

    assert [c.id for c in client.v1.customers.list().data] == [customer.id]


def test_a_late_answer_times_the_caller_out_but_the_call_happened(
    stripe_url: str, stripe_client: stripe.StripeClient
) -> None:
    _faults(stripe_url, delays={"seconds": 1.0, "count": 1})

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{stripe_url}/v1/products",
            data={"name": "Late"},
            headers={"Authorization": "Bearer sk_test_emulator", "Idempotency-Key": "late-1"},
            timeout=0.2,
        )
    replayed = httpx.post(
        f"{stripe_url}/v1/products",
        data={"name": "Late"},
        headers={"Authorization": "Bearer sk_test_emulator", "Idempotency-Key": "late-1"},
    )

    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert [p.name for p in stripe_client.v1.products.list().data] == ["Late"]


def test_clear_and_reset_forget_the_faults(
    stripe_url: str, stripe_client: stripe.StripeClient
) -> None:
    _faults(stripe_url, errors={"status": 500, "count": 5}, delays={"seconds": 5, "count": 5})
    assert httpx.delete(f"{stripe_url}/_emulator/faults").json() == {
        "errors": None,
        "delays": None,
    }
    _faults(stripe_url, errors={"status": 500, "count": 5})
    httpx.post(f"{stripe_url}/_emulator/reset").raise_for_status()

    assert stripe_client.v1.products.create(params={"name": "Fine"}).id.startswith("prod_")


def test_a_fault_outside_the_error_range_is_refused(stripe_url: str) -> None:
    response = httpx.post(f"{stripe_url}/_emulator/faults", json={"errors": {"status": 200}})

    assert response.status_code == 422
