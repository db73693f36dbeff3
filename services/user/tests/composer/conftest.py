"""The web composer against real processes: two UserApi processes (both run the scheduler),
ProductApi (the allowance) and LocalizationApi (the copies), on databases of their own and a
broker of these tests' own, started once by ``nudges_devstack.platform``. Tokens come from a
stand-in of AuthApi (a test issuer's JWKS and the ``user`` machine account's grant)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.platform import MACHINE_SECRETS, ORDER, Platform
from nudges_devstack.testing import AuthStandIn, TokenIssuer
from nudges_kit.auth import user_id_for
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import payment, user
from nudges_kit.kafka import make_producer, start_client
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings

#: The second UserApi process: a scheduler racing the first one for the same rows.
REPLICA = "user-2"
SERVICES = ("localization", "user", "product", REPLICA)
#: Short rounds, so that a schedule 2-3 s ahead starts within the tests' patience.
POLL_SECONDS = "0.5"


class GraphError(AssertionError):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors

    @property
    def code(self) -> str:
        return str(self.errors[0].get("extensions", {}).get("code"))


@dataclass(frozen=True)
class ClientAccount:
    id: str
    token: str
    name: str
    slug: str


@dataclass
class Composing:
    """Clients, subscribers and plans set up through the subgraphs, and the composer's calls."""

    platform: Platform
    issuer: TokenIssuer
    vault: PhoneVault
    #: The error of a GraphQL answer with errors (its ``code``: the first one's).
    Error: ClassVar[type[GraphError]] = GraphError
    #: The second scheduler's process.
    replica: str = REPLICA
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=15.0))

    def gql(self, subgraph: str, query: str, token: str | None, **variables: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = self.http.post(
            self.platform.url(subgraph, "/graphql"),
            json={"query": query, "variables": variables},
            headers=headers,
        )
        body = answer.json()
        if body.get("errors"):
            raise GraphError(body["errors"])
        return body["data"]

    def token(self, phone: str, role: str, locale: str) -> str:
        phone_hash = self.vault.hash(phone)
        return self.issuer.token(
            user_id_for(phone_hash),
            role,
            locale=locale,
            phone_hash=phone_hash,
            phone_ct=self.vault.encrypt(phone),
        )

    @staticmethod
    def phone() -> str:
        return f"+1415{random.randint(200, 999)}{random.randint(0, 9999):04d}"

    def client(
        self, messages_per_period: int | None = 1000, phone: str | None = None
    ) -> ClientAccount:
        """A new English-speaking client (of ``phone``, by default a San Francisco number),
        with a paid plan of ``messages_per_period``."""
        token = self.token(phone or self.phone(), "client", "en")
        name = f"Shop {uuid.uuid4().hex[:5]}"
        created = self.gql(
            "user",
            "mutation($i: CreateClientInput!) { createClient(input: $i) { id slug } }",
            token,
            i={"name": name, "locale": "en"},
        )["createClient"]
        if messages_per_period is not None:
            self._subscribe(created["id"], messages_per_period)
        return ClientAccount(created["id"], token, name, created["slug"])

    def subscribers(self, client: ClientAccount, locale: str, count: int) -> None:
        for _ in range(count):
            self.gql(
                "user",
                "mutation($s: String!) { joinClient(slug: $s) { id } }",
                self.token(self.phone(), "subscriber", locale),
                s=client.slug,
            )

    def _subscribe(self, client_id: str, messages_per_period: int) -> None:
        """A paid plan for the month around now, as ProductApi records PaymentApi's
        ``payment.invoice.paid``."""
        admin = self.issuer.token("admin-of-tests", "admin")
        plan = self.gql(
            "product",
            "mutation($i: CreatePlanInput!) { createPlan(input: $i) { id } }",
            admin,
            i={
                "name": f"Plan {messages_per_period}",
                "features": {
                    "messagesPerPeriod": messages_per_period,
                    "supportTier": "STANDARD",
                    "aiAssist": False,
                },
            },
        )["createPlan"]["id"]
        tier = self.gql(
            "product",
            "mutation($p: ID!, $i: CreatePriceTierInput!) { createPriceTier(planId: $p,"
            " input: $i) { id } }",
            admin,
            p=plan,
            i={"name": "Monthly", "amount": 900, "currency": "usd", "interval": "MONTH"},
        )["createPriceTier"]["id"]
        now = datetime.now(UTC)
        sid = f"sub_{uuid.uuid4().hex}"
        self.publish(
            payment.invoice_paid.topic,
            payment.invoice_paid.envelope(
                sid,
                payment.InvoiceData(
                    stripe_invoice_id=f"in_{uuid.uuid4().hex}",
                    stripe_subscription_id=sid,
                    client_id=uuid.UUID(client_id),
                    price_tier_id=uuid.UUID(tier),
                    period_start=now - timedelta(days=1),
                    period_end=now + timedelta(days=29),
                    amount=900,
                    currency="usd",
                ),
            ),
        )
        query = "query($c: ID!) { planSubscriptions(first: 1, clientId: $c) { nodes { id } } }"
        deadline = time.monotonic() + 30
        while not self.gql("product", query, admin, c=client_id)["planSubscriptions"]["nodes"]:
            assert time.monotonic() < deadline, "no plan subscription within 30 s"
            time.sleep(0.1)

    def publish(self, topic: str, event: Envelope) -> None:
        """Publish ``event`` to ``topic`` on these tests' broker, as its producer would."""

        async def send() -> None:
            settings = NudgesSettings(kafka_bootstrap_servers=self.platform.kafka_bootstrap_servers)
            producer = make_producer(settings)
            await start_client(producer, settings)
            try:
                await producer.send_and_wait(topic, event.to_bytes(), key=event.key.encode())
            finally:
                await producer.stop()

        asyncio.run(send())

    def use_allowance(self, client: ClientAccount, segments: int) -> None:
        """Charge ``segments`` SMS to the client's plan, as ProductApi records a completed
        announcement (``user.announcement.completed``, which the fan-out's end publishes)."""
        announcement_id = uuid.uuid4()
        self.publish(
            user.announcement_completed.topic,
            user.announcement_completed.envelope(
                str(announcement_id),
                user.AnnouncementCompletedData(
                    announcement_id=announcement_id,
                    client_id=uuid.UUID(client.id),
                    recipients=segments,
                    sent=segments,
                    delivered=segments,
                    failed=0,
                    stopped=0,
                    segments=segments,
                    completed_at=datetime.now(UTC),
                ),
            ),
        )

    def events(self, topic: str, event_type: str) -> list[dict[str, Any]]:
        """The envelopes of ``event_type`` published to ``topic`` so far, as JSON."""

        async def read() -> list[dict[str, Any]]:
            consumer = AIOKafkaConsumer(
                topic,
                bootstrap_servers=self.platform.kafka_bootstrap_servers,
                auto_offset_reset="earliest",
                enable_auto_commit=False,
            )
            await consumer.start()
            try:
                partitions = consumer.assignment()
                while not partitions:
                    await asyncio.sleep(0.05)
                    partitions = consumer.assignment()
                ends = await consumer.end_offsets(list(partitions))
                found: list[dict[str, Any]] = []
                while [p for p, end in ends.items() if await consumer.position(p) < end]:
                    batches = await consumer.getmany(timeout_ms=1000)
                    for records in batches.values():
                        found += [orjson.loads(r.value or b"{}") for r in records]
                return [e for e in found if e.get("type") == event_type]
            finally:
                await consumer.stop()

        return asyncio.run(read())

    def announcements(self, client: ClientAccount, via: str = "user") -> list[dict[str, Any]]:
        """The client's announcements, asked of UserApi's process ``via``."""
        data = self.gql(
            via,
            "{ announcements(first: 100) { nodes { id body recipients confirmedAt } } }",
            client.token,
        )
        return list(data["announcements"]["nodes"])


@pytest.fixture(scope="package")
def composer_broker(state_dir: Path) -> Iterator[TansuBroker]:
    """A broker of these tests' own: their events stay off the session's broker."""
    broker = TansuBroker(free_port(), log_path=state_dir / "composer-tansu.log")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="package")
def composing(
    postgres: Postgres, composer_broker: TansuBroker, state_dir: Path
) -> Iterator[Composing]:
    auth = AuthStandIn({"user": MACHINE_SECRETS["user"]})
    scheduler = {"SCHEDULER_POLL_SECONDS": POLL_SECONDS}
    platform = Platform(
        postgres.url,
        composer_broker.bootstrap_servers,
        state_dir / "composer-platform",
        services=SERVICES,
        ports={name: free_port() for name in ORDER if name not in SERVICES}
        | {"auth": auth.server.port},
        replicas={REPLICA: "user"},
        overrides={
            "user": scheduler,
            # The replica is the same machine account as the first process.
            REPLICA: {**scheduler, "SERVICE_CLIENT_SECRET": MACHINE_SECRETS["user"]},
        },
    )
    platform.state_dir.mkdir(parents=True, exist_ok=True)
    keys = NudgesSettings()
    vault = PhoneVault(
        keys.phone_encryption_key.get_secret_value(), keys.phone_hash_key.get_secret_value()
    )
    try:
        platform.start()
        yield Composing(platform, auth.issuer, vault)
    finally:
        platform.stop()
        auth.server.stop()
