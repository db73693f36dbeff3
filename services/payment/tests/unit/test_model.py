"""The rules of checkout sessions and payment confirmations, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from nudges_kit.auth import Principal
from nudges_kit.errors import BadInput, Conflict
from nudges_payment.domain.access import client_id_of, may_read_client_payments
from nudges_payment.domain.model import (
    CheckoutRequest,
    CheckoutSession,
    CheckoutStatus,
    ClientAccount,
    NewPaymentConfirmation,
    PriceTierOffer,
    PriceTierStatus,
)

CLIENT = uuid.uuid4()
TIER = str(uuid.uuid4())
NOON = datetime(2026, 11, 22, 12, 0, 5, tzinfo=UTC)


def _request(
    key: str | None = None, code: str | None = None, now: datetime = NOON
) -> CheckoutRequest:
    return CheckoutRequest.checked(CLIENT, TIER, code, key, now)


def test_one_request_maps_to_one_key_and_one_session_id() -> None:
    first, again = _request("attempt-1"), _request("attempt-1")
    assert first.idempotency_key == again.idempotency_key
    assert first.checkout_session_id == again.checkout_session_id
    other = _request("attempt-2")
    assert other.idempotency_key != first.idempotency_key
    assert other.checkout_session_id != first.checkout_session_id


def test_without_a_key_repeats_within_the_minute_are_one_request() -> None:
    assert (
        _request(now=NOON).idempotency_key
        == _request(now=NOON + timedelta(seconds=50)).idempotency_key
    )
    assert (
        _request(now=NOON).idempotency_key
        != _request(now=NOON + timedelta(minutes=1)).idempotency_key
    )


def test_the_discount_code_is_part_of_the_request() -> None:
    assert _request("k", "SAVE10").idempotency_key != _request("k").idempotency_key
    assert _request("k", "  SAVE10 ").discount_code == "SAVE10"
    assert _request("k", "   ").discount_code is None


def test_metadata_names_client_tier_and_session() -> None:
    request = _request("k")
    assert request.metadata() == {
        "client_id": str(CLIENT),
        "price_tier_id": TIER,
        "checkout_session_id": str(request.checkout_session_id),
    }


@pytest.mark.parametrize(
    ("tier", "code", "key", "field"),
    [
        ("not-a-uuid", None, None, "priceTierId"),
        (TIER, "no spaces allowed", None, "discountCode"),
        (TIER, "x" * 65, None, "discountCode"),
        (TIER, None, "", "idempotencyKey"),
        (TIER, None, "k" * 201, "idempotencyKey"),
        (TIER, None, "tab\there", "idempotencyKey"),
    ],
)
def test_checkout_arguments_are_checked(
    tier: str, code: str | None, key: str | None, field: str
) -> None:
    with pytest.raises(BadInput) as caught:
        CheckoutRequest.checked(CLIENT, tier, code, key, NOON)
    assert caught.value.field == field


def _session() -> CheckoutSession:
    return CheckoutSession(
        id=uuid.uuid4(),
        client_id=CLIENT,
        price_tier_id=uuid.UUID(TIER),
        discount_code=None,
        stripe_session_id="cs_test_1",
        url="https://stripe.test/cs_test_1",
        status=CheckoutStatus.OPEN,
        expires_at=None,
    )


def test_a_session_completes_once() -> None:
    session = _session()
    assert session.complete("sub_1", NOON) is True
    assert session.complete("sub_2", NOON + timedelta(minutes=1)) is False
    assert (session.status, session.stripe_subscription_id, session.completed_at) == (
        CheckoutStatus.COMPLETE,
        "sub_1",
        NOON,
    )


def test_completion_wins_over_expiry() -> None:
    paid = _session()
    paid.complete("sub_1", NOON)
    assert paid.expire() is False
    assert paid.status is CheckoutStatus.COMPLETE
    late = _session()
    assert late.expire() is True
    assert late.expire() is False
    assert late.complete("sub_1", NOON) is True
    assert late.status is CheckoutStatus.COMPLETE


def test_only_an_active_tier_with_a_stripe_price_can_be_bought() -> None:
    tier = uuid.uuid4()
    assert PriceTierOffer(tier, PriceTierStatus.ACTIVE, "price_1").checkout_price() == "price_1"
    for status in (PriceTierStatus.INACTIVE, PriceTierStatus.ARCHIVED):
        with pytest.raises(BadInput, match=status.value):
            PriceTierOffer(tier, status, "price_1").checkout_price()
    with pytest.raises(Conflict, match="no Stripe price"):
        PriceTierOffer(tier, PriceTierStatus.ACTIVE, None).checkout_price()


def test_a_client_without_a_stripe_customer_cannot_be_billed_yet() -> None:
    assert ClientAccount(CLIENT, "cus_1").billing_customer() == "cus_1"
    with pytest.raises(Conflict, match="being set up"):
        ClientAccount(CLIENT, None).billing_customer()


def test_a_payment_confirmation_is_normalised() -> None:
    new = NewPaymentConfirmation.checked("in_1", str(CLIENT), 900, " USD ", NOON)
    assert (new.client_id, new.currency, new.amount) == (CLIENT, "usd", 900)


@pytest.mark.parametrize(
    ("invoice", "client", "amount", "currency", "paid_at", "field"),
    [
        ("", str(CLIENT), 1, "usd", NOON, "stripeInvoiceId"),
        ("in 1", str(CLIENT), 1, "usd", NOON, "stripeInvoiceId"),
        ("in_1", "someone", 1, "usd", NOON, "clientId"),
        ("in_1", str(CLIENT), -1, "usd", NOON, "amount"),
        ("in_1", str(CLIENT), 1, "dollars", NOON, "currency"),
        ("in_1", str(CLIENT), 1, "usd", NOON.replace(tzinfo=None), "paidAt"),
    ],
)
def test_a_payment_confirmation_is_checked(
    invoice: str, client: str, amount: int, currency: str, paid_at: datetime, field: str
) -> None:
    with pytest.raises(BadInput) as caught:
        NewPaymentConfirmation.checked(invoice, client, amount, currency, paid_at)
    assert caught.value.field == field


def test_a_client_reads_only_their_own_payments_and_admins_read_all() -> None:
    other = uuid.uuid4()
    client = Principal(subject=str(CLIENT), roles=frozenset({"client"}))
    admin = Principal(subject="staff", roles=frozenset({"admin"}))
    subscriber = Principal(subject=str(CLIENT), roles=frozenset({"subscriber"}))
    assert client_id_of(client) == CLIENT
    assert may_read_client_payments(client, CLIENT)
    assert not may_read_client_payments(client, other)
    assert may_read_client_payments(admin, other)
    assert client_id_of(subscriber) is None
    assert not may_read_client_payments(subscriber, CLIENT)
