"""Stripe, through the official ``stripe`` library: promotion codes, Checkout Sessions, and
the metadata of subscriptions and customers (whose client an invoice bills).

Pointed at the Stripe emulator in development and tests (``STRIPE_API_BASE``), at
``https://api.stripe.com`` in production; the code path is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import stripe
from stripe.params.checkout import SessionCreateParams

from nudges_kit.errors import PaymentProviderFailed
from nudges_kit.logging import get_logger
from nudges_kit.metrics import PROVIDER_CALLS
from nudges_kit.stripe_version import STRIPE_API_VERSION

log = get_logger(__name__)

SAFE_MESSAGE = "the payment provider could not open the checkout; try again later"
#: Stripe does not know the price or customer Nudges recorded (another Stripe account, or the
#: emulator's state wiped): the catalog and customer sync create them again, and their owners
#: learn the new ids from Stripe's events.
MISSING_MESSAGE = (
    "the payment provider no longer knows this plan's price or your billing account; "
    "try again in a moment"
)


@dataclass(frozen=True)
class SubscriptionCheckout:
    """What to ask Stripe for: one recurring price, for one customer."""

    customer_id: str
    price_id: str
    promotion_code_id: str | None
    success_url: str
    cancel_url: str
    metadata: dict[str, str]
    idempotency_key: str
    #: Days of free trial before the first charge (0: none).
    trial_days: int = 0


@dataclass(frozen=True)
class OpenedCheckout:
    """The session Stripe opened: where to send the payer, and until when."""

    stripe_session_id: str
    url: str
    expires_at: datetime | None


class PaymentProvider(Protocol):
    """The payment provider as the service layer sees it."""

    async def promotion_code_id(self, code: str) -> str | None:
        """The id of the active promotion code ``code``, or None when there is none."""
        ...

    async def open_subscription_checkout(self, request: SubscriptionCheckout) -> OpenedCheckout:
        """Open a hosted checkout in subscription mode."""
        ...

    async def metadata_of(self, kind: str, object_id: str) -> dict[str, str]:
        """The ``metadata`` of a Stripe ``subscription`` or ``customer``."""
        ...


class StripeGateway:
    """:class:`PaymentProvider` on the Stripe API."""

    def __init__(
        self, api_key: str, api_base: str, timeout: float = 20.0, max_network_retries: int = 2
    ) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout)
        self._client = stripe.StripeClient(
            api_key,
            stripe_version=STRIPE_API_VERSION,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=max_network_retries,
        )

    async def promotion_code_id(self, code: str) -> str | None:
        try:
            found = await self._client.v1.promotion_codes.list_async(
                {"code": code, "active": True, "limit": 1}
            )
        except stripe.StripeError as exc:
            raise _failed("list promotion codes", exc) from exc
        PROVIDER_CALLS.labels("stripe", "list promotion codes", "ok").inc()
        for promotion in found.data:
            if promotion.code.lower() == code.lower():
                return promotion.id
        return None

    async def open_subscription_checkout(self, request: SubscriptionCheckout) -> OpenedCheckout:
        params: SessionCreateParams = {
            "mode": "subscription",
            "customer": request.customer_id,
            "line_items": [{"price": request.price_id, "quantity": 1}],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "metadata": request.metadata,
            "client_reference_id": request.metadata.get("client_id", ""),
            "subscription_data": {"metadata": request.metadata},
        }
        if request.trial_days:
            params["subscription_data"]["trial_period_days"] = request.trial_days
        if request.promotion_code_id:
            params["discounts"] = [{"promotion_code": request.promotion_code_id}]
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                params, {"idempotency_key": request.idempotency_key}
            )
        except stripe.InvalidRequestError as exc:
            failed = _failed("create checkout session", exc)
            if exc.code == "resource_missing":
                log.error(
                    "stripe does not know a recorded id",
                    param=exc.param,
                    customer=request.customer_id,
                    price=request.price_id,
                )
                raise PaymentProviderFailed(MISSING_MESSAGE, "resource_missing") from exc
            raise failed from exc
        except stripe.StripeError as exc:
            raise _failed("create checkout session", exc) from exc
        PROVIDER_CALLS.labels("stripe", "create checkout session", "ok").inc()
        if not session.url:
            raise PaymentProviderFailed(SAFE_MESSAGE, "missing_url")
        expires_at = (
            datetime.fromtimestamp(session.expires_at, tz=UTC) if session.expires_at else None
        )
        return OpenedCheckout(stripe_session_id=session.id, url=session.url, expires_at=expires_at)

    async def metadata_of(self, kind: str, object_id: str) -> dict[str, str]:
        action = f"retrieve {kind}"
        try:
            found: stripe.StripeObject
            if kind == "subscription":
                found = await self._client.v1.subscriptions.retrieve_async(object_id)
            else:
                found = await self._client.v1.customers.retrieve_async(object_id)
        except stripe.StripeError as exc:
            raise _failed(action, exc) from exc
        PROVIDER_CALLS.labels("stripe", action, "ok").inc()
        metadata: dict[str, str] = found.to_dict().get("metadata") or {}
        return metadata

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]


def _failed(action: str, exc: stripe.StripeError) -> PaymentProviderFailed:
    """A safe error for the caller; the details go to the log only."""
    reason = getattr(exc, "code", None) or type(exc).__name__
    status = exc.http_status
    PROVIDER_CALLS.labels("stripe", action, f"{status // 100}xx" if status else "unavailable").inc()
    log.warning(
        "stripe call failed",
        action=action,
        error_type=type(exc).__name__,
        http_status=exc.http_status,
        stripe_code=getattr(exc, "code", None),
        request_id=exc.request_id,
        error=exc.user_message or str(exc),
    )
    return PaymentProviderFailed(SAFE_MESSAGE, str(reason))
