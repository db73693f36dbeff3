"""The Stripe emulator's HTTP interface: Stripe's ``/v1`` API as the ``stripe`` library
calls it, the hosted checkout page, and ``/_emulator`` controls for tests and people."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import stripe
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel

from nudges_emulators.delivery import RetryPolicy
from nudges_emulators.forms import parse_nested, parse_pairs
from nudges_emulators.stripe import billing, billing_portal, catalog, checkout_page
from nudges_emulators.stripe.errors import StripeError
from nudges_emulators.stripe.faults import FaultPlan, Faults
from nudges_emulators.stripe.params import (
    LIST_PARAMS,
    ApiCall,
    accepts,
    opt_list,
    reject_unimplemented,
)
from nudges_emulators.stripe.settings import StripeEmulatorSettings
from nudges_emulators.stripe.state import (
    IdempotentResponse,
    StripeObject,
    StripeState,
    current_request,
    random_id,
)
from nudges_emulators.stripe.webhooks import WebhookEndpoint, WebhookSender
from nudges_kit.http import background, create_app
from nudges_kit.logging import get_logger

log = get_logger(__name__)

Operation = Callable[[StripeState, ApiCall], StripeObject]


def _retrieve(kind: str) -> Operation:
    @accepts({})
    def retrieve(state: StripeState, call: ApiCall) -> StripeObject:
        return state.get(kind, call.object_id)

    return retrieve


def _list(kind: str, url: str) -> Operation:
    @accepts(LIST_PARAMS)
    def list_all(state: StripeState, call: ApiCall) -> StripeObject:
        return state.list_page(kind, call.params, url)

    return list_all


#: Stripe's ``/v1`` routes the emulator answers, and the operation behind each.
ROUTES: tuple[tuple[str, str, Operation], ...] = (
    ("POST", "/v1/customers", catalog.create_customer),
    ("GET", "/v1/customers", catalog.list_customers),
    ("GET", "/v1/customers/search", catalog.search_customers),
    ("GET", "/v1/customers/{object_id}", _retrieve("customer")),
    ("POST", "/v1/customers/{object_id}", catalog.update_customer),
    ("DELETE", "/v1/customers/{object_id}", catalog.delete_customer),
    ("POST", "/v1/products", catalog.create_product),
    ("GET", "/v1/products", catalog.list_products),
    ("GET", "/v1/products/{object_id}", _retrieve("product")),
    ("POST", "/v1/products/{object_id}", catalog.update_product),
    ("POST", "/v1/prices", catalog.create_price),
    ("GET", "/v1/prices", catalog.list_prices),
    ("GET", "/v1/prices/{object_id}", _retrieve("price")),
    ("POST", "/v1/prices/{object_id}", catalog.update_price),
    ("POST", "/v1/coupons", catalog.create_coupon),
    ("GET", "/v1/coupons", catalog.list_coupons),
    ("GET", "/v1/coupons/{object_id}", catalog.retrieve_coupon),
    ("POST", "/v1/coupons/{object_id}", catalog.update_coupon),
    ("DELETE", "/v1/coupons/{object_id}", catalog.delete_coupon),
    ("POST", "/v1/promotion_codes", catalog.create_promotion_code),
    ("GET", "/v1/promotion_codes", catalog.list_promotion_codes),
    ("GET", "/v1/promotion_codes/{object_id}", _retrieve("promotion_code")),
    ("POST", "/v1/promotion_codes/{object_id}", catalog.update_promotion_code),
    ("POST", "/v1/checkout/sessions", billing.create_checkout_session),
    ("GET", "/v1/checkout/sessions", billing.list_checkout_sessions),
    ("GET", "/v1/checkout/sessions/{object_id}", _retrieve("checkout.session")),
    ("GET", "/v1/checkout/sessions/{object_id}/line_items", billing.list_line_items),
    ("POST", "/v1/checkout/sessions/{object_id}/expire", billing.expire_checkout),
    ("GET", "/v1/subscriptions", billing.list_subscriptions),
    ("GET", "/v1/subscriptions/{object_id}", _retrieve("subscription")),
    ("POST", "/v1/subscriptions/{object_id}", billing.update_subscription),
    ("DELETE", "/v1/subscriptions/{object_id}", billing.cancel_subscription),
    ("GET", "/v1/invoices", billing.list_invoices),
    ("GET", "/v1/invoices/{object_id}", _retrieve("invoice")),
    ("POST", "/v1/invoices/create_preview", billing.preview_invoice),
    ("GET", "/v1/invoiceitems/{object_id}", _retrieve("invoiceitem")),
    ("POST", "/v1/billing_portal/sessions", billing_portal.create_session),
    ("GET", "/v1/events", billing.list_events),
    ("GET", "/v1/events/{object_id}", _retrieve("event")),
)


def _json(obj: Any) -> bytes:
    return json.dumps(obj, indent=2).encode()


class StripeEmulator:
    """The state, the webhook sender and the settings, shared by every route."""

    def __init__(self, settings: StripeEmulatorSettings) -> None:
        self.settings = settings
        state_file = settings.stripe_emulator_state_file
        self.state = StripeState(
            settings.stripe_checkout_session_ttl_seconds, Path(state_file) if state_file else None
        )
        self.faults = FaultPlan()
        self.webhooks = WebhookSender(
            self.state,
            WebhookEndpoint(
                settings.stripe_webhook_url, settings.stripe_webhook_secret.get_secret_value()
            ),
            RetryPolicy(
                max_attempts=settings.stripe_webhook_max_attempts,
                initial_delay=settings.stripe_webhook_retry_seconds,
            ),
            settings.stripe_webhook_timeout_seconds,
        )
        # Events a previous process kept but had not delivered go out first, as Stripe
        # retries a webhook until the endpoint takes it.
        for event in self.state.undelivered_events():
            self.webhooks.enqueue(event)

    def reset(self) -> None:
        """Forget every object, event and delivery."""
        with self.state.lock:
            self.state.reset()
            self.webhooks.forget()
            self.faults.clear()

    def base_url(self, request: Request) -> str:
        """The address callers reach the emulator at (for hosted page links)."""
        return self.settings.stripe_emulator_public_url or str(request.base_url).rstrip("/")

    def api_key_error(self, request: Request) -> StripeError | None:
        """Stripe's 401 when the request carries no (or, when one is configured, the wrong)
        API key; the key may come as a bearer token or as the basic-auth user."""
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        key = ""
        if scheme.lower() == "bearer":
            key = value.strip()
        elif scheme.lower() == "basic":
            try:
                key = base64.b64decode(value).decode().partition(":")[0]
            except ValueError:
                key = ""
        if not key:
            return StripeError(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
                status=401,
            )
        expected = self.settings.stripe_emulator_api_key.get_secret_value()
        if expected and key != expected:
            return StripeError(f"Invalid API Key provided: {key[:8]}****{key[-4:]}", status=401)
        return None

    async def sweep_expired_sessions(self, stop: asyncio.Event) -> None:
        """Expire checkout sessions past ``expires_at``, as Stripe does, until ``stop``."""
        while not stop.is_set():
            with self.state.lock:
                if billing.expire_due_sessions(self.state):
                    self.state.save()
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)


def _api_endpoint(
    emulator: StripeEmulator, operation: Operation
) -> Callable[[Request], Awaitable[Response]]:
    """A route running ``operation`` as Stripe runs a request: API key, form or query
    parameters, ``expand``, idempotency keys, Stripe-shaped errors."""

    async def endpoint(request: Request) -> Response:
        request_id = random_id("req_", 14)
        headers = {"Request-Id": request_id, "Stripe-Version": stripe.api_version}
        if (auth_error := emulator.api_key_error(request)) is not None:
            return Response(
                _json(auth_error.as_json()), auth_error.status, headers, "application/json"
            )
        if (version_error := _version_error(request)) is not None:
            return Response(
                _json(version_error.as_json()), version_error.status, headers, "application/json"
            )
        if (fault := emulator.faults.next_error()) is not None:
            return Response(_json(fault.as_json()), fault.status, headers, "application/json")
        raw = await request.body() if request.method == "POST" else request.url.query
        params = parse_nested(parse_pairs(raw))
        key = request.headers.get("idempotency-key") if request.method != "GET" else None
        call = ApiCall(request.path_params.get("object_id", ""), params, emulator.base_url(request))
        state = emulator.state
        with state.lock:
            token = current_request.set((request_id, key))
            try:
                if key:
                    headers["Idempotency-Key"] = key
                    fingerprint = f"{request.method} {request.url.path} " + json.dumps(
                        params, sort_keys=True
                    )
                    if (seen := state.idempotency.get(key)) is not None:
                        if seen.fingerprint != fingerprint:
                            error = StripeError(
                                "Keys for idempotent requests can only be used with the same "
                                "parameters they were first used with. Try using a key other "
                                f"than '{key}' if you meant to execute a different request.",
                                type="idempotency_error",
                            )
                            status, body = error.status, _json(error.as_json())
                        else:
                            headers["Idempotent-Replayed"] = "true"
                            status, body = seen.status, seen.body
                        return Response(body, status, headers, "application/json")
                status, body = _run(state, operation, call)
                if key:
                    state.idempotency[key] = IdempotentResponse(fingerprint, status, body)
                if request.method != "GET":
                    state.save()
            finally:
                current_request.reset(token)
        if (delay := emulator.faults.next_delay()) > 0:
            # Carried out already: a caller that gives up has an in-doubt request to retry.
            await asyncio.sleep(delay)
        return Response(body, status, headers, "application/json")

    return endpoint


def _version_error(request: Request) -> StripeError | None:
    """A request asking for another API version than the one the emulator's objects have
    (the pinned library's ``stripe.api_version``) is refused rather than answered in the
    wrong shapes; a request without ``Stripe-Version`` gets that version, as an account
    pinned to it would."""
    asked = request.headers.get("stripe-version")
    if asked is None or asked == stripe.api_version:
        return None
    return StripeError(
        f"Invalid Stripe API version: {asked}. The Stripe emulator speaks only "
        f"{stripe.api_version}, the version of the pinned stripe library.",
        param="Stripe-Version",
    )


def _run(state: StripeState, operation: Operation, call: ApiCall) -> tuple[int, bytes]:
    try:
        reject_unimplemented(call.params, getattr(operation, "accepted", {"expand": None}))
        obj = operation(state, call)
        expand = [str(path) for path in opt_list(call.params, "expand")]
        return 200, _json(state.expand(obj, expand) if expand else obj)
    except StripeError as error:
        return error.status, _json(error.as_json())


class WebhookConfig(BaseModel):
    """``POST /_emulator/config``: point the emulator at another receiver (tests)."""

    webhook_url: str | None = None
    webhook_secret: str | None = None


def build_app(settings: StripeEmulatorSettings) -> FastAPI:
    """The Stripe emulator app."""
    emulator = StripeEmulator(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        async with background(
            stop, emulator.webhooks.run(stop), emulator.sweep_expired_sessions(stop)
        ):
            log.info(
                "stripe emulator ready",
                webhook_url=emulator.webhooks.endpoint.url,
                state_file=str(emulator.state.path or ""),
            )
            yield
        # Deliveries since the last change (``pending_webhooks``) are kept too.
        emulator.state.save()

    app: FastAPI = create_app(settings, title="Stripe emulator", lifespan=lifespan)
    app.state.emulator = emulator
    for method, path, operation in ROUTES:
        app.add_api_route(
            path, _api_endpoint(emulator, operation), methods=[method], include_in_schema=False
        )

    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "DELETE"], include_in_schema=False)
    async def unknown(request: Request) -> JSONResponse:
        error = StripeError(
            f"Unrecognized request URL ({request.method}: {request.url.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/. (The Stripe "
            "emulator implements only what Nudges uses.)",
            status=404,
        )
        return JSONResponse(error.as_json(), error.status)

    def _control(
        run: Callable[[], Any], redirect_to: Callable[[], str | None] | None = None
    ) -> Response:
        with emulator.state.lock:
            try:
                result = run()
            except StripeError as error:
                if redirect_to is not None:
                    return HTMLResponse(f"<p>{error.message}</p>", error.status)
                return JSONResponse(error.as_json(), error.status)
            emulator.state.save()
            if redirect_to is not None:
                return RedirectResponse(redirect_to() or "/", status_code=303)
            return JSONResponse(result)

    def _session_url(session_id: str, field: str) -> str:
        session = emulator.state.get("checkout.session", session_id)
        url = session[field] or f"/checkout/{session_id}"
        return str(url).replace("{CHECKOUT_SESSION_ID}", session_id)

    @app.post("/_emulator/checkout/{session_id}/complete")
    async def complete(session_id: str, request: Request, redirect: bool = False) -> Response:
        """Pay the session: subscription, paid invoice and their events."""
        base = emulator.base_url(request)

        def run() -> dict[str, Any]:
            session = billing.complete_checkout(emulator.state, session_id, base)
            return {
                "session": session,
                "subscription": emulator.state.get("subscription", session["subscription"]),
                "invoice": emulator.state.get("invoice", session["invoice"]),
            }

        return _control(
            run, (lambda: _session_url(session_id, "success_url")) if redirect else None
        )

    @app.post("/_emulator/checkout/{session_id}/fail")
    async def fail(session_id: str, request: Request, redirect: bool = False) -> Response:
        """Decline the payment: an open invoice and ``invoice.payment_failed``; the session
        stays open."""
        base = emulator.base_url(request)

        def run() -> dict[str, Any]:
            invoice = billing.fail_checkout(emulator.state, session_id, base)
            return {
                "session": emulator.state.get("checkout.session", session_id),
                "invoice": invoice,
            }

        return _control(run, (lambda: _session_url(session_id, "cancel_url")) if redirect else None)

    @app.post("/_emulator/checkout/{session_id}/expire")
    async def expire(session_id: str) -> Response:
        """Expire the session now: ``checkout.session.expired``."""
        return _control(
            lambda: billing.expire_checkout(emulator.state, ApiCall(session_id, {}, ""))
        )

    @app.post("/_emulator/subscriptions/{subscription_id}/renew")
    async def renew(subscription_id: str, fail: bool = False) -> Response:
        """End the current period now: renew (paid, or ``fail=true`` for past due), or cancel
        a subscription set to cancel at period end."""
        return _control(
            lambda: billing.renew_subscription(emulator.state, subscription_id, fail=fail)
        )

    @app.post("/_emulator/subscriptions/{subscription_id}/trial_will_end")
    async def trial_will_end(subscription_id: str) -> Response:
        """Three days before the trial ends, now: ``customer.subscription.trial_will_end``."""
        return _control(lambda: billing.announce_trial_end(emulator.state, subscription_id))

    @app.get("/_emulator/events")
    async def events(type: str | None = None) -> dict[str, Any]:
        """Every event, oldest first, with its delivery attempts."""
        with emulator.state.lock:
            return {"data": emulator.webhooks.log(type)}

    @app.post("/_emulator/faults")
    async def configure_faults(change: Faults) -> dict[str, Any]:
        """Make the next API calls answer an error (429, 500...) or answer late."""
        emulator.faults.apply(change)
        return emulator.faults.as_json()

    @app.get("/_emulator/faults")
    async def show_faults() -> dict[str, Any]:
        """What is configured to go wrong."""
        return emulator.faults.as_json()

    @app.delete("/_emulator/faults")
    async def clear_faults() -> dict[str, Any]:
        """Nothing goes wrong any more."""
        emulator.faults.clear()
        return emulator.faults.as_json()

    @app.post("/_emulator/reset")
    async def reset() -> dict[str, str]:
        """Forget everything (between tests)."""
        emulator.reset()
        return {"status": "reset"}

    @app.get("/_emulator/config")
    async def get_config() -> dict[str, str]:
        """Where webhooks go."""
        return {"webhook_url": emulator.webhooks.endpoint.url}

    @app.post("/_emulator/config")
    async def set_config(config: WebhookConfig) -> dict[str, str]:
        """Send webhooks elsewhere, or sign them with another secret."""
        if config.webhook_url is not None:
            emulator.webhooks.endpoint.url = config.webhook_url
        if config.webhook_secret is not None:
            emulator.webhooks.endpoint.secret = config.webhook_secret
        return {"webhook_url": emulator.webhooks.endpoint.url}

    @app.get("/billing_portal/{session_id}", response_class=HTMLResponse, include_in_schema=False)
    async def portal_page(session_id: str) -> HTMLResponse:
        """The hosted billing portal of the session's ``url``."""
        with emulator.state.lock:
            session = emulator.state.objects["billing_portal.session"].get(session_id)
            if session is None:
                return HTMLResponse("<p>No such billing portal session.</p>", 404)
            subscriptions = [
                sub
                for sub in emulator.state.objects["subscription"].values()
                if sub["customer"] == session["customer"] and sub["status"] != "canceled"
            ]
            return HTMLResponse(billing_portal.render(session, subscriptions))

    @app.post(
        "/billing_portal/{session_id}/subscriptions/{subscription_id}/{action}",
        include_in_schema=False,
    )
    async def portal_action(session_id: str, subscription_id: str, action: str) -> Response:
        """The portal's buttons: cancel at period end, or keep the plan (what the customer
        does in Stripe's portal, with the same ``customer.subscription.updated``)."""
        if action not in ("cancel", "renew"):
            return HTMLResponse("<p>Unknown action.</p>", 404)

        def run() -> dict[str, Any]:
            session = emulator.state.get("billing_portal.session", session_id)
            sub = emulator.state.get("subscription", subscription_id)
            if sub["customer"] != session["customer"]:
                raise StripeError("No such subscription.", status=404)
            flag = "true" if action == "cancel" else "false"
            call = ApiCall(subscription_id, {"cancel_at_period_end": flag}, "")
            return billing.update_subscription(emulator.state, call)

        return _control(run, lambda: f"/billing_portal/{session_id}")

    @app.get("/checkout/{session_id}", response_class=HTMLResponse, include_in_schema=False)
    async def hosted_page(session_id: str) -> HTMLResponse:
        """The hosted checkout page of the session's ``url``."""
        with emulator.state.lock:
            session = emulator.state.objects["checkout.session"].get(session_id)
            if session is None:
                return HTMLResponse("<p>No such checkout session.</p>", 404)
            return HTMLResponse(
                checkout_page.render(session, emulator.state.line_items[session_id])
            )

    return app
