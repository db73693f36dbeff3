"""PaymentApi on a migrated database of its own (its consumer of ``stripe.events`` running on
the session's broker), the Stripe emulator, and a stand-in for the two subgraphs it asks
(ProductApi for price tiers, UserApi for Stripe customers) and for the token endpoint of its
machine account."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import pytest
import stripe
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.testclient import TestClient
from uuid6 import uuid7

from nudges_devstack.infra import Postgres, TansuBroker
from nudges_devstack.testing import (
    Caller,
    SubgraphClient,
    TokenIssuer,
    create_migrated_database,
    drop_database,
)
from nudges_emulators.serving import ServerThread
from nudges_emulators.stripe.app import build_app as build_stripe_emulator
from nudges_emulators.stripe.settings import StripeEmulatorSettings
from nudges_kit.events import Envelope
from nudges_kit.events.catalog.providers import StripeEventData, stripe_event
from nudges_kit.kafka import make_producer, start_client
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings, with_database
from nudges_payment.adapters import repository
from nudges_payment.domain.model import NewPaymentConfirmation
from nudges_payment.entrypoints.http import build_app
from nudges_payment.migrations import migration_set
from nudges_payment.settings import PaymentSettings

SUCCESS_URL = "https://nudges.test/checkout/done?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://nudges.test/checkout/cancelled?session_id={CHECKOUT_SESSION_ID}"


@dataclass
class OtherSubgraphs:
    """Stands in for ProductApi and UserApi at PaymentApi's boundary: answers ``_entities``
    for ``PriceTier`` and ``Client`` from what the test put here, over real HTTP."""

    url: str = ""
    price_tiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The Authorization header of every request, per subgraph.
    seen_tokens: list[tuple[str, str | None]] = field(default_factory=list)
    #: When set, every request fails with this HTTP status.
    failing_status: int | None = None
    #: When set, every entity is refused with a GraphQL error of this code.
    refusing_code: str | None = None
    #: The machine accounts that asked the token endpoint for a token, and what it gives.
    token_requests: list[str] = field(default_factory=list)
    machine_token: str = "payment-machine-token"

    def app(self) -> FastAPI:
        app = FastAPI()

        async def answer(subgraph: str, request: Request) -> Response:
            self.seen_tokens.append((subgraph, request.headers.get("authorization")))
            if self.failing_status is not None:
                return PlainTextResponse("down for maintenance", self.failing_status)
            body = await request.json()
            if self.refusing_code is not None:
                refusal = {"message": "refused", "extensions": {"code": self.refusing_code}}
                return JSONResponse({"data": {"_entities": [None]}, "errors": [refusal]})
            known = self.price_tiers if subgraph == "product" else self.clients
            entities = []
            for representation in body["variables"]["representations"]:
                found = known.get(representation["id"])
                entities.append(
                    {"__typename": representation["__typename"], **found} if found else None
                )
            return JSONResponse({"data": {"_entities": entities}})

        @app.post("/auth/token")
        async def token(request: Request) -> Response:
            # PaymentApi's client credentials: HTTP Basic, the account name before the colon.
            basic = request.headers.get("authorization", "").removeprefix("Basic ")
            self.token_requests.append(base64.b64decode(basic).decode().split(":")[0])
            return JSONResponse({"access_token": self.machine_token, "expires_in": 900})

        @app.post("/product/graphql")
        async def product(request: Request) -> Response:
            return await answer("product", request)

        @app.post("/user/graphql")
        async def user(request: Request) -> Response:
            return await answer("user", request)

        return app


@dataclass(frozen=True)
class StripeWorld:
    """Objects created on the Stripe emulator for the session."""

    url: str
    client: stripe.StripeClient
    customer_id: str
    price_id: str
    product_id: str
    promotion_code: str
    promotion_code_id: str


@pytest.fixture(scope="session")
def stripe_world() -> Iterator[StripeWorld]:
    """The Stripe emulator (in this process, on a free port) with a customer, a monthly
    price and a promotion code."""
    emulator = build_stripe_emulator(
        StripeEmulatorSettings(environment="test", stripe_webhook_url="", log_json=False)
    )
    server = ServerThread(emulator).start()
    client = stripe.StripeClient("sk_test_payment_tests", base_addresses={"api": server.url})
    customer = client.v1.customers.create({"email": "client@nudges.test"})
    product = client.v1.products.create({"name": "Pro"})
    price = client.v1.prices.create(
        {
            "product": product.id,
            "unit_amount": 900,
            "currency": "usd",
            "recurring": {"interval": "month"},
        }
    )
    coupon = client.v1.coupons.create({"percent_off": 10, "duration": "once"})
    code = f"WELCOME{uuid.uuid4().hex[:6].upper()}"
    promotion = client.v1.promotion_codes.create(
        {"promotion": {"type": "coupon", "coupon": coupon.id}, "code": code}
    )
    try:
        yield StripeWorld(
            url=server.url,
            client=client,
            customer_id=customer.id,
            price_id=price.id,
            product_id=product.id,
            promotion_code=code,
            promotion_code_id=promotion.id,
        )
    finally:
        server.stop()


@pytest.fixture(scope="session")
def subgraphs() -> Iterator[OtherSubgraphs]:
    stand_in = OtherSubgraphs()
    server = ServerThread(stand_in.app()).start()
    stand_in.url = server.url
    try:
        yield stand_in
    finally:
        server.stop()


@pytest.fixture(scope="session")
def api(
    postgres: Postgres,
    kafka_broker: TansuBroker,
    stripe_world: StripeWorld,
    subgraphs: OtherSubgraphs,
) -> Iterator[SubgraphClient]:
    """PaymentApi, its lifespan running (pool, outbox relay, adapters), on a fresh paymentdb."""
    database = create_migrated_database(postgres.url, migration_set())
    settings = PaymentSettings(
        environment="test",
        log_json=False,
        postgres_url=postgres.url,
        database_name=database,
        kafka_bootstrap_servers=kafka_broker.bootstrap_servers,
        stripe_api_base=stripe_world.url,
        stripe_max_network_retries=0,
        checkout_success_url=SUCCESS_URL,
        checkout_cancel_url=CANCEL_URL,
        product_url=f"{subgraphs.url}/product/graphql",
        user_url=f"{subgraphs.url}/user/graphql",
        auth_token_url=f"{subgraphs.url}/auth/token",
    )
    issuer = TokenIssuer()
    vault = PhoneVault(
        settings.phone_encryption_key.get_secret_value(), settings.phone_hash_key.get_secret_value()
    )
    try:
        with TestClient(build_app(settings, issuer.verifier())) as client:
            yield SubgraphClient(client, issuer, vault, with_database(postgres.url, database))
    finally:
        asyncio.run(drop_database(postgres.url, database))


@dataclass
class Checkout:
    """Makes the callers and price tiers a checkout needs, known to the stand-in subgraphs."""

    api: SubgraphClient
    subgraphs: OtherSubgraphs
    stripe: StripeWorld

    def client(self, stripe_customer_id: str | None = "default") -> Caller:
        """A signed-in client UserApi knows, with the session's Stripe customer by default."""
        caller = self.api.person("client")
        customer = (
            self.stripe.customer_id if stripe_customer_id == "default" else stripe_customer_id
        )
        self.subgraphs.clients[caller.subject] = {
            "id": caller.subject,
            "stripeCustomerId": customer,
        }
        return caller

    def tier(self, status: str = "ACTIVE", stripe_price_id: str | None = "default") -> str:
        """A price tier ProductApi knows, selling the session's Stripe price by default."""
        tier_id = str(uuid.uuid4())
        price = self.stripe.price_id if stripe_price_id == "default" else stripe_price_id
        self.subgraphs.price_tiers[tier_id] = {
            "id": tier_id,
            "status": status,
            "stripePriceId": price,
        }
        return tier_id

    def open(self, caller: Caller, tier_id: str | None = None, **arguments: Any) -> dict[str, Any]:
        """A checkout session the caller opened through ``createCheckoutSession``."""
        query = (
            "mutation($t: ID!, $c: String, $k: String) {"
            " createCheckoutSession(priceTierId: $t, discountCode: $c, idempotencyKey: $k) {"
            " id status url priceTierId discountCode client { id } } }"
        )
        data = self.api.ok(
            query,
            caller.token,
            t=tier_id or self.tier(),
            c=arguments.get("discount_code"),
            k=arguments.get("idempotency_key", uuid.uuid4().hex),
        )
        created: dict[str, Any] = data["createCheckoutSession"]
        # Stripe ids are for staff: the session's is read as an admin.
        staff = self.api.ok(
            "query($id: ID!) { checkoutSession(id: $id) { stripeSessionId } }",
            self.api.person("admin").token,
            id=created["id"],
        )
        return {**created, **staff["checkoutSession"]}


@pytest.fixture(scope="session")
def checkout(api: SubgraphClient, subgraphs: OtherSubgraphs, stripe_world: StripeWorld) -> Checkout:
    return Checkout(api, subgraphs, stripe_world)


#: ``record_payment(api, client_id, paid_at, amount=900, currency="usd")``: a confirmation id.
RecordPayment = Callable[..., str]


@pytest.fixture(scope="session")
def record_payment() -> RecordPayment:
    """Records paid invoices in paymentdb for tests of the read side, through the repository
    call PaymentApi's consumer makes for ``invoice.paid``."""
    return _record_payment


def _record_payment(
    api: SubgraphClient, client_id: str, paid_at: datetime, amount: int = 900, currency: str = "usd"
) -> str:

    async def record() -> str:
        conn = await asyncpg.connect(api.database_url)
        try:
            new = NewPaymentConfirmation.checked(
                f"in_{uuid.uuid4().hex}", client_id, amount, currency, paid_at
            )
            confirmation, _ = await repository.add_payment_confirmation(conn, uuid7(), new)
        finally:
            await conn.close()
        return str(confirmation.id)

    return asyncio.run(record())


@dataclass(frozen=True)
class StripeNews:
    """Puts verified Stripe events on ``stripe.events``, as the Webhooks service does."""

    bootstrap_servers: str

    def envelope(self, stripe_type: str, obj: dict[str, Any]) -> Envelope:
        """A new event (its own Stripe event id) about ``obj``."""
        data = StripeEventData(
            stripe_event_id=f"evt_{uuid.uuid4().hex}", stripe_type=stripe_type, object=obj
        )
        return stripe_event.envelope(str(obj.get("id")), data)

    def send(self, *envelopes: Envelope) -> None:
        """Publish ``envelopes`` in order (the same one twice is a redelivery)."""

        async def publish() -> None:
            settings = NudgesSettings(kafka_bootstrap_servers=self.bootstrap_servers)
            producer = make_producer(settings)
            await start_client(producer, settings)
            try:
                for envelope in envelopes:
                    await producer.send_and_wait(
                        stripe_event.topic, envelope.to_bytes(), key=envelope.key.encode()
                    )
            finally:
                await producer.stop()

        asyncio.run(publish())


@pytest.fixture(scope="session")
def stripe_news(kafka_broker: TansuBroker) -> StripeNews:
    return StripeNews(kafka_broker.bootstrap_servers)
