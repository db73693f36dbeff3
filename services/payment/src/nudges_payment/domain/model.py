"""The rules of checkout sessions and payment confirmations: plain classes, no I/O."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar
from uuid import UUID

from nudges_kit.errors import BadInput, Conflict

T = TypeVar("T")

#: Names checkout session ids: the same request always maps to the same id.
CHECKOUT_NAMESPACE = UUID("6f1d3c9e-4b0a-5e7d-9c1a-2b3c4d5e6f70")
DISCOUNT_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
STRIPE_ID = re.compile(r"^[A-Za-z0-9_]{3,255}$")
CURRENCY = re.compile(r"^[a-z]{3}$")
MAX_IDEMPOTENCY_KEY = 200
#: Without a key from the caller, repeats within this many seconds are one request.
IDEMPOTENCY_WINDOW_SECONDS = 60


class CheckoutStatus(StrEnum):
    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"


class PriceTierStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    ARCHIVED = "archived"


@dataclass
class CheckoutSession:
    """A Stripe Checkout Session a client opened to subscribe to a price tier."""

    id: UUID
    client_id: UUID
    price_tier_id: UUID
    discount_code: str | None
    stripe_session_id: str
    url: str
    status: CheckoutStatus
    expires_at: datetime | None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    stripe_subscription_id: str | None = None

    def complete(self, stripe_subscription_id: str, at: datetime) -> bool:
        """Mark the session paid; True only the first time (when the event is due).

        Completion wins over expiry: when Stripe says the client paid, they paid, even if
        an expiry notice arrived first.
        """
        if self.status is CheckoutStatus.COMPLETE:
            return False
        self.status = CheckoutStatus.COMPLETE
        self.completed_at = at
        self.stripe_subscription_id = stripe_subscription_id
        return True

    def expire(self) -> bool:
        """Close an open session; True when this changed it (a paid one stays complete)."""
        if self.status is not CheckoutStatus.OPEN:
            return False
        self.status = CheckoutStatus.EXPIRED
        return True


@dataclass(frozen=True)
class PaymentConfirmation:
    """An invoice Stripe reported paid: recorded once per invoice."""

    id: UUID
    stripe_invoice_id: str
    client_id: UUID
    amount: int
    currency: str
    paid_at: datetime
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class NewPaymentConfirmation:
    """A checked request to record a paid invoice."""

    stripe_invoice_id: str
    client_id: UUID
    amount: int
    currency: str
    paid_at: datetime

    @classmethod
    def checked(
        cls,
        stripe_invoice_id: str,
        client_id: str,
        amount: int,
        currency: str,
        paid_at: datetime,
    ) -> NewPaymentConfirmation:
        """The request, validated and normalised (currency lowercase, as Stripe sends it)."""
        return cls(
            stripe_invoice_id=check_stripe_id(stripe_invoice_id, "stripeInvoiceId"),
            client_id=parse_id(client_id, "clientId"),
            amount=check_amount(amount),
            currency=check_currency(currency),
            paid_at=check_aware(paid_at, "paidAt"),
        )


@dataclass(frozen=True)
class MerchantService:
    """A payment provider Nudges takes money through (seeded: ``stripe``)."""

    id: UUID
    name: str
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class Revenue:
    """Money taken in one currency, in minor units."""

    currency: str
    amount: int
    confirmations: int


@dataclass(frozen=True)
class PaymentTotals:
    """What the admin dashboard shows about payments."""

    confirmations: int
    revenue: tuple[Revenue, ...]


@dataclass(frozen=True)
class PriceTierOffer:
    """What PaymentApi needs to know of a price tier (owned by ProductApi) to sell it."""

    price_tier_id: UUID
    status: PriceTierStatus
    stripe_price_id: str | None
    #: Days of free trial a checkout of the tier starts with (0: none).
    trial_days: int = 0

    def checkout_price(self) -> str:
        """The Stripe price to charge; refuses a tier that is not on sale."""
        if self.status is not PriceTierStatus.ACTIVE:
            raise BadInput(
                f"this price tier is {self.status.value} and cannot be bought", field="priceTierId"
            )
        if not self.stripe_price_id:
            raise Conflict("this price tier has no Stripe price yet; try again in a minute")
        return self.stripe_price_id


@dataclass(frozen=True)
class ClientAccount:
    """What PaymentApi needs to know of a client (owned by UserApi) to bill them."""

    client_id: UUID
    stripe_customer_id: str | None

    def billing_customer(self) -> str:
        """The Stripe customer to bill; refuses while it is being created."""
        if not self.stripe_customer_id:
            raise Conflict("your billing account is still being set up; try again in a minute")
        return self.stripe_customer_id


@dataclass(frozen=True)
class Window(Generic[T]):
    """Up to one page of items, whether more follow, and how many there are in all."""

    items: Sequence[T]
    has_next: bool
    total: int


@dataclass(frozen=True)
class CheckoutRequest:
    """A client's checked request to open a checkout, with the keys that make it idempotent."""

    client_id: UUID
    price_tier_id: UUID
    discount_code: str | None
    #: Sent to Stripe as ``Idempotency-Key``: a retried request never opens a second session.
    idempotency_key: str
    #: Our id of the session, derived from the same key (a retry finds the stored one).
    checkout_session_id: UUID

    @classmethod
    def checked(
        cls,
        client_id: UUID,
        price_tier_id: str,
        discount_code: str | None,
        idempotency_key: str | None,
        now: datetime,
    ) -> CheckoutRequest:
        """Validate the arguments and derive the idempotency key.

        The key hashes client, tier and code with the caller's ``idempotencyKey`` when given,
        else with the current minute: repeats of one request within the minute (double
        clicks, retries) return the same session.
        """
        tier_id = parse_id(price_tier_id, "priceTierId")
        code = check_discount_code(discount_code)
        if idempotency_key is not None:
            scope = f"key:{check_idempotency_key(idempotency_key)}"
        else:
            scope = f"window:{int(now.timestamp()) // IDEMPOTENCY_WINDOW_SECONDS}"
        digest = hashlib.sha256(
            f"checkout|{client_id}|{tier_id}|{code or ''}|{scope}".encode()
        ).hexdigest()
        return cls(
            client_id=client_id,
            price_tier_id=tier_id,
            discount_code=code,
            idempotency_key=f"nudges-checkout-{digest}",
            checkout_session_id=uuid.uuid5(CHECKOUT_NAMESPACE, digest),
        )

    def metadata(self) -> dict[str, str]:
        """The metadata Stripe keeps on the session and echoes in its webhooks."""
        return {
            "client_id": str(self.client_id),
            "price_tier_id": str(self.price_tier_id),
            "checkout_session_id": str(self.checkout_session_id),
        }


def parse_id(value: str, field: str) -> UUID:
    """``value`` as a UUID, or BAD_USER_INPUT on ``field``."""
    try:
        return UUID(str(value))
    except ValueError:
        raise BadInput(f"{field} is not a valid id", field=field) from None


def check_discount_code(code: str | None) -> str | None:
    """A discount code as the client typed it, trimmed; None when blank."""
    if code is None or not code.strip():
        return None
    cleaned = code.strip()
    if not DISCOUNT_CODE.match(cleaned):
        raise BadInput(
            "a discount code is 1 to 64 letters, digits, '-' or '_'", field="discountCode"
        )
    return cleaned


def check_idempotency_key(key: str) -> str:
    """A caller's idempotency key: printable, at most 200 characters."""
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise BadInput(
            f"the idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters",
            field="idempotencyKey",
        )
    return key


def check_stripe_id(value: str, field: str) -> str:
    """A Stripe object id (``cs_…``, ``in_…``, ``sub_…``)."""
    if not STRIPE_ID.match(value or ""):
        raise BadInput(f"{field} is not a Stripe id", field=field)
    return value


def check_amount(amount: int) -> int:
    """An amount in minor units: a whole number, not negative."""
    if amount < 0:
        raise BadInput("the amount cannot be negative", field="amount")
    return amount


def check_currency(currency: str) -> str:
    """An ISO 4217 code, lowercase as Stripe writes it."""
    cleaned = (currency or "").strip().lower()
    if not CURRENCY.match(cleaned):
        raise BadInput("the currency must be a three-letter ISO 4217 code", field="currency")
    return cleaned


def check_aware(moment: datetime, field: str) -> datetime:
    """A moment with a time zone (a naive one could mean anything)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadInput(f"{field} must carry a time zone offset", field=field)
    return moment
