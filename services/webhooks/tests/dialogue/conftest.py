"""The SMS dialogue against real processes: UserApi and ProductApi on databases of their own,
LocalizationApi, WarpCache, the Twilio emulator and the Webhooks service itself (what the
emulator's inbound texts reach), started once per session by ``nudges_devstack.platform``.
Tokens come from a stand-in of AuthApi serving a test issuer's JWKS and the
client-credentials grant of the machine accounts."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.platform import CONSUMERS_SECRET, ORDER, WEBHOOKS_SECRET, Platform
from nudges_devstack.testing import AuthStandIn, TokenIssuer
from nudges_kit.auth import user_id_for
from nudges_kit.events.catalog import payment
from nudges_kit.kafka import make_producer, start_client
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings, with_database

SERVICES = ("warpcache", "localization", "twilio-emulator", "user", "product", "webhooks")
#: How long a confirmation is answered "already confirmed": short, so that a test sees it end.
CONFIRMED_WINDOW_SECONDS = 5
MACHINES = {"webhooks": WEBHOOKS_SECRET, "consumers": CONSUMERS_SECRET}


@dataclass(frozen=True)
class ClientAccount:
    id: str
    phone: str
    name: str
    slug: str
    locale: str


@dataclass
class World:
    """Sets up clients, subscribers and plans through the graph, and texts the Nudges number
    through the Twilio emulator."""

    platform: Platform
    issuer: TokenIssuer
    vault: PhoneVault
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=15.0))
    _plans: dict[int, str] = field(default_factory=dict)
    #: Each client's Stripe subscription id and price tier, as its paid invoice named them.
    _subscriptions: dict[str, tuple[str, str]] = field(default_factory=dict)
    confirmed_window_seconds: float = CONFIRMED_WINDOW_SECONDS

    @property
    def service_token(self) -> str:
        return self.issuer.token("tests", "service")

    def gql(self, subgraph: str, query: str, token: str | None, **variables: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = self.http.post(
            self.platform.url(subgraph, "/graphql"),
            json={"query": query, "variables": variables},
            headers=headers,
        )
        body = answer.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def phone(self) -> str:
        """A fresh valid US number."""
        return f"+1415{random.randint(200, 999)}{random.randint(0, 9999):04d}"

    def token(self, phone: str, role: str, locale: str = "en") -> str:
        phone_hash = self.vault.hash(phone)
        return self.issuer.token(
            user_id_for(phone_hash),
            role,
            locale=locale,
            phone_hash=phone_hash,
            phone_ct=self.vault.encrypt(phone),
        )

    def client(
        self, locale: str = "en", messages_per_period: int | None = 1000, name: str = ""
    ) -> ClientAccount:
        """A new client; with an active plan of ``messages_per_period`` unless None."""
        phone = self.phone()
        name = name or f"Shop {uuid.uuid4().hex[:5]}"
        created = self.gql(
            "user",
            "mutation($i: CreateClientInput!) { createClient(input: $i) { id slug } }",
            self.token(phone, "client", locale),
            i={"name": name, "locale": locale},
        )["createClient"]
        account = ClientAccount(created["id"], phone, name, created["slug"], locale)
        if messages_per_period is not None:
            self.subscribe_to_plan(account.id, messages_per_period)
        return account

    def subscriber(self, client: ClientAccount, locale: str = "en", phone: str = "") -> str:
        """A new subscriber of ``client``; their number."""
        phone = phone or self.phone()
        self.gql(
            "user",
            "mutation($s: String!) { joinClient(slug: $s) { id } }",
            self.token(phone, "subscriber", locale),
            s=client.slug,
        )
        return phone

    def subscribe_to_plan(self, client_id: str, messages_per_period: int) -> None:
        """A paid subscription for the month around now, as ProductApi stores it from
        PaymentApi's ``payment.invoice.paid``."""
        tier = self._plans.get(messages_per_period) or self._plan(messages_per_period)
        now = datetime.now(UTC)
        sid = f"sub_{uuid.uuid4().hex}"
        self._subscriptions[client_id] = (sid, tier)
        paid = payment.invoice_paid.envelope(
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
        )

        async def publish() -> None:
            settings = NudgesSettings(kafka_bootstrap_servers=self.platform.kafka_bootstrap_servers)
            producer = make_producer(settings)
            await start_client(producer, settings)
            try:
                await producer.send_and_wait(
                    payment.invoice_paid.topic, paid.to_bytes(), key=paid.key.encode()
                )
            finally:
                await producer.stop()

        asyncio.run(publish())
        query = "query($c: ID!) { planSubscriptions(first: 1, clientId: $c) { nodes { id } } }"
        admin = self.issuer.token("admin-of-tests", "admin")
        deadline = time.monotonic() + 30
        while not self.gql("product", query, admin, c=client_id)["planSubscriptions"]["nodes"]:
            assert time.monotonic() < deadline, "no plan subscription within 30 s"
            time.sleep(0.1)

    def fail_renewal(self, client_id: str, days_ago: float = 0) -> None:
        """The client's renewal not paid (PaymentApi's ``payment.invoice.failed``): past due,
        the first failure ``days_ago`` (moved back in ProductApi's database, as time passing)."""
        sid, tier = self._subscriptions[client_id]
        renewal = datetime.now(UTC) + timedelta(days=29)
        failed = payment.invoice_failed.envelope(
            sid,
            payment.InvoiceData(
                stripe_invoice_id=f"in_{uuid.uuid4().hex}",
                stripe_subscription_id=sid,
                client_id=uuid.UUID(client_id),
                price_tier_id=uuid.UUID(tier),
                period_start=renewal,
                period_end=renewal + timedelta(days=30),
                amount=900,
                currency="usd",
            ),
        )

        async def publish() -> None:
            settings = NudgesSettings(kafka_bootstrap_servers=self.platform.kafka_bootstrap_servers)
            producer = make_producer(settings)
            await start_client(producer, settings)
            try:
                await producer.send_and_wait(
                    payment.invoice_failed.topic, failed.to_bytes(), key=failed.key.encode()
                )
            finally:
                await producer.stop()

        asyncio.run(publish())
        product_db = with_database(self.platform.postgres_url, self.platform.databases["product"])
        deadline = time.monotonic() + 30
        with psycopg.connect(product_db, autocommit=True) as conn:
            while not conn.execute(
                "UPDATE plan_subscriptions SET past_due_since = past_due_since - %s"
                " WHERE stripe_subscription_id = %s AND status = 'past_due' RETURNING id",
                (timedelta(days=days_ago), sid),
            ).fetchall():
                assert time.monotonic() < deadline, "not past due within 30 s"
                time.sleep(0.1)

    def _plan(self, messages_per_period: int) -> str:
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
        self._plans[messages_per_period] = tier
        return str(tier)

    def text(self, phone: str, body: str) -> str:
        """What Nudges answers ``body`` texted from ``phone`` (through the emulator)."""
        answer = self.http.post(
            self.platform.url("twilio-emulator", "/_emulator/inbound"),
            json={"from": phone, "body": body},
        )
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["status"] == 200, result
        assert len(result["replies"]) == 1, result
        return str(result["reply"])

    def announcements(self, client: ClientAccount) -> list[dict[str, Any]]:
        data = self.gql(
            "user",
            "query($id: ID!) { client(id: $id) { announcements(first: 50) { nodes {"
            " id body recipients status } } } }",
            self.service_token,
            id=client.id,
        )
        return list(data["client"]["announcements"]["nodes"])

    def set_keyword(self, client: ClientAccount, keyword: str) -> dict[str, Any]:
        """The client sets its keyword (updateClient); the GraphQL answer, errors included."""
        answer = self.http.post(
            self.platform.url("user", "/graphql"),
            json={
                "query": "mutation($id: ID!, $i: UpdateClientInput!) {"
                " updateClient(id: $id, input: $i) { keyword } }",
                "variables": {"id": client.id, "i": {"keyword": keyword}},
            },
            headers={"Authorization": f"Bearer {self.token(client.phone, 'client')}"},
        )
        return dict(answer.json())

    def eventually(self, read: Callable[[], Any], expected: Any, seconds: float = 30) -> None:
        """Wait until ``read()`` returns ``expected``: what YES and LANG change is made by
        UserApi once it has consumed the dialogue's ``sms.opt-ins`` event."""
        deadline = time.monotonic() + seconds
        while (found := read()) != expected:
            assert time.monotonic() < deadline, f"still {found!r}, not {expected!r}"
            time.sleep(0.1)

    def members(self, client: ClientAccount) -> list[tuple[str, str]]:
        """The client's memberships as (status, source), in join order."""
        data = self.gql(
            "user",
            "{ subscribers(first: 50) { nodes { status source } } }",
            self.token(client.phone, "client", client.locale),
        )
        return [(m["status"], m["source"]) for m in data["subscribers"]["nodes"]]

    def joined_events(self, client: ClientAccount) -> int:
        """How many ``user.membership.joined`` UserApi published for the client (each brings
        the new subscriber their welcome)."""
        user_db = with_database(self.platform.postgres_url, self.platform.databases["user"])
        with psycopg.connect(user_db, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM outbox WHERE event_type = 'user.membership.joined'"
                " AND key = %s",
                (client.id,),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def locale_of(self, phone: str) -> str:
        """The language of the number's user."""
        data = self.gql(
            "user",
            "query($h: String!) { phoneIdentity(phoneHash: $h) { locale } }",
            self.service_token,
            h=self.vault.hash(phone),
        )
        return str(data["phoneIdentity"]["locale"])

    def memberships(self, phone: str) -> list[str]:
        data = self.gql(
            "user",
            "query($h: String!) { phoneIdentity(phoneHash: $h) { activeMemberships"
            " stoppedMemberships } }",
            self.service_token,
            h=self.vault.hash(phone),
        )["phoneIdentity"]
        return ["active"] * data["activeMemberships"] + ["stopped"] * data["stoppedMemberships"]


@pytest.fixture(scope="package")
def dialogue_broker(state_dir: Path) -> Iterator[TansuBroker]:
    """A broker of these tests' own: their events stay off the session's broker (whose other
    suites read their topics from the start), and others' events off theirs."""
    broker = TansuBroker(free_port(), log_path=state_dir / "dialogue-tansu.log")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="package")
def world(postgres: Postgres, dialogue_broker: TansuBroker, state_dir: Path) -> Iterator[World]:
    auth = AuthStandIn(MACHINES)
    platform = Platform(
        postgres.url,
        dialogue_broker.bootstrap_servers,
        state_dir / "dialogue-platform",
        services=SERVICES,
        # Services not started here answer nowhere, except AuthApi's stand-in.
        ports={name: free_port() for name in ORDER if name not in SERVICES}
        | {"auth": auth.server.port},
        overrides={"webhooks": {"CONFIRMED_WINDOW_SECONDS": str(CONFIRMED_WINDOW_SECONDS)}},
    )
    platform.state_dir.mkdir(parents=True, exist_ok=True)
    keys = NudgesSettings()  # the development keys every process of the platform uses
    vault = PhoneVault(
        keys.phone_encryption_key.get_secret_value(), keys.phone_hash_key.get_secret_value()
    )
    try:
        platform.start()
        yield World(platform, auth.issuer, vault)
    finally:
        platform.stop()
        auth.server.stop()
