"""A Stripe invoice read in PaymentApi's words."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from nudges_payment.domain.invoices import StripeInvoice

JAN = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())
FEB = int(datetime(2027, 2, 1, tzinfo=UTC).timestamp())


def _invoice(invoice_metadata: dict[str, str], sub_metadata: dict[str, str]) -> dict[str, object]:
    return {
        "id": "in_1",
        "customer": "cus_1",
        "amount_paid": 900,
        "amount_due": 900,
        "currency": "USD",
        "metadata": invoice_metadata,
        "status_transitions": {"paid_at": JAN + 60},
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": "sub_1", "metadata": sub_metadata},
        },
        "lines": {"data": [{"period": {"start": JAN, "end": FEB}}]},
    }


def test_the_client_and_tier_come_from_the_invoice_or_its_subscription() -> None:
    client, tier = uuid.uuid4(), uuid.uuid4()
    read = StripeInvoice.of(_invoice({}, {"client_id": str(client), "price_tier_id": str(tier)}))
    assert (read.client_id, read.price_tier_id) == (client, tier)
    assert read.stripe_subscription_id == "sub_1"
    assert (read.period_start, read.period_end) == (
        datetime(2027, 1, 1, tzinfo=UTC),
        datetime(2027, 2, 1, tzinfo=UTC),
    )
    assert read.currency == "usd"
    assert read.paid_at == datetime.fromtimestamp(JAN + 60, UTC)


def test_an_invoice_naming_no_client_says_so_rather_than_guessing() -> None:
    read = StripeInvoice.of(_invoice({"client_id": "not-an-id"}, {}))
    assert read.client_id is None
    assert read.customer_id == "cus_1"
