"""Fan-out, sending and notifications against real processes: UserApi (which records the
deliveries from the sender's outcomes and ``twilio.status``) and ProductApi on databases of
their own, LocalizationApi, WarpCache, the Twilio emulator and the Webhooks service (which
turns the emulator's status callbacks into ``twilio.status``), started
once per session by ``nudges_devstack.platform``; consumersdb migrated; the consumers run in
the test's event loop, where a test can stop one abruptly. Tokens come from a stand-in of
AuthApi serving a test issuer's JWKS and the client-credentials grant."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from nudges_consumers.adapters.twilio_sender import TwilioSender
from nudges_consumers.bootstrap import Deps, build_deps
from nudges_consumers.service_layer import client_digests, fan_out, notifications, sms_outbound
from nudges_consumers.settings import ConsumersSettings
from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.platform import (
    CONSUMERS_SECRET,
    MACHINE_SECRETS,
    ORDER,
    TWILIO_AUTH_TOKEN,
    WEBHOOKS_SECRET,
    Platform,
)
from nudges_devstack.testing import AuthStandIn, TokenIssuer
from nudges_kit.auth import user_id_for
from nudges_kit.consumer import EventConsumer
from nudges_kit.db import create_pool
from nudges_kit.events import REGISTRY, Envelope, EventType
from nudges_kit.events.catalog import payment
from nudges_kit.kafka import all_topics, ensure_topics, make_producer, start_client
from nudges_kit.outbox import OutboxRelay
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings, with_database


def invoice_event(
    event_type: EventType[payment.InvoiceData],
    client_id: str,
    tier_id: str,
    stripe_subscription_id: str,
    period_start: datetime,
    period_end: datetime,
) -> Envelope:
    """``payment.invoice.paid`` or ``.failed`` of a subscription's invoice, as PaymentApi
    publishes it."""
    return event_type.envelope(
        stripe_subscription_id,
        payment.InvoiceData(
            stripe_invoice_id=f"in_{uuid.uuid4().hex}",
            stripe_subscription_id=stripe_subscription_id,
            client_id=uuid.UUID(client_id),
            price_tier_id=uuid.UUID(tier_id),
            period_start=period_start,
            period_end=period_end,
            amount=900,
            currency="usd",
        ),
    )


SERVICES = ("warpcache", "localization", "twilio-emulator", "user", "product", "webhooks")
#: The machine accounts AuthApi's stand-in grants tokens to (UserApi's: its composer and
#: scheduler ask ProductApi for allowances).
MACHINES = {
    "webhooks": WEBHOOKS_SECRET,
    "consumers": CONSUMERS_SECRET,
    "user": MACHINE_SECRETS["user"],
}


@dataclass(frozen=True)
class ClientAccount:
    id: str
    phone: str
    name: str
    slug: str
    locale: str


@dataclass
class Stack:
    """The running services, the consumers' dependencies, and helpers to set up clients,
    subscribers and plans through the graph and to read what the Twilio emulator sent."""

    platform: Platform
    issuer: TokenIssuer
    vault: PhoneVault
    settings: ConsumersSettings
    deps: Deps
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=15.0))
    _plans: dict[int, str] = field(default_factory=dict)

    @property
    def pool(self) -> asyncpg.Pool:
        return self.deps.pool

    def token(self, phone: str, role: str, locale: str = "en") -> str:
        phone_hash = self.vault.hash(phone)
        return self.issuer.token(
            user_id_for(phone_hash),
            role,
            locale=locale,
            phone_hash=phone_hash,
            phone_ct=self.vault.encrypt(phone),
        )

    @property
    def service_token(self) -> str:
        return self.issuer.token("tests", "service")

    async def gql(self, subgraph: str, query: str, token: str | None, **variables: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = await self.http.post(
            self.platform.url(subgraph, "/graphql"),
            json={"query": query, "variables": variables},
            headers=headers,
        )
        body = answer.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    @staticmethod
    def phone() -> str:
        """A fresh valid US number."""
        return f"+1415{random.randint(200, 999)}{random.randint(0, 9999):04d}"

    async def client(
        self, locale: str = "en", messages_per_period: int | None = 100_000, name: str = ""
    ) -> ClientAccount:
        phone = self.phone()
        name = name or f"Shop {uuid.uuid4().hex[:5]}"
        created = (
            await self.gql(
                "user",
                "mutation($i: CreateClientInput!) { createClient(input: $i) { id slug } }",
                self.token(phone, "client", locale),
                i={"name": name, "locale": locale},
            )
        )["createClient"]
        account = ClientAccount(created["id"], phone, name, created["slug"], locale)
        if messages_per_period is not None:
            await self.subscribe_to_plan(account.id, messages_per_period)
        return account

    async def subscriber(self, client: ClientAccount, locale: str = "en", phone: str = "") -> str:
        phone = phone or self.phone()
        await self.gql(
            "user",
            "mutation($s: String!) { joinClient(slug: $s) { id } }",
            self.token(phone, "subscriber", locale),
            s=client.slug,
        )
        return phone

    #: ``payment.invoice.paid`` / ``.failed`` as PaymentApi publishes them.
    invoice_event = staticmethod(invoice_event)

    async def publish(self, *envelopes: Envelope) -> None:
        """Put ``envelopes`` on the broker, as their producers (PaymentApi, Webhooks) do."""
        producer = make_producer(self.settings)
        await start_client(producer, self.settings)
        try:
            for envelope in envelopes:
                topic = REGISTRY.get(envelope.type).topic
                await producer.send_and_wait(topic, envelope.to_bytes(), key=envelope.key.encode())
        finally:
            await producer.stop()

    async def plan_subscription(self, client_id: str) -> dict[str, Any] | None:
        """The client's newest plan subscription as ProductApi stores it (id and status)."""
        found = await self.gql(
            "product",
            "query($c: ID!) { planSubscriptions(first: 1, clientId: $c) { nodes { id status } } }",
            self.issuer.token("admin-of-tests", "admin"),
            c=client_id,
        )
        nodes: list[dict[str, Any]] = found["planSubscriptions"]["nodes"]
        return nodes[0] if nodes else None

    async def subscribe_to_plan(self, client_id: str, messages_per_period: int) -> str:
        """A paid subscription of the client for the month around now, as ProductApi stores it
        from PaymentApi's ``payment.invoice.paid``; its id."""
        tier = self._plans.get(messages_per_period) or await self._plan(messages_per_period)
        now = datetime.now(UTC)
        await self.publish(
            invoice_event(
                payment.invoice_paid,
                client_id,
                tier,
                f"sub_{uuid.uuid4().hex}",
                now - timedelta(days=1),
                now + timedelta(days=29),
            )
        )
        deadline = asyncio.get_running_loop().time() + 30
        while (stored := await self.plan_subscription(client_id)) is None:
            assert asyncio.get_running_loop().time() < deadline, "no plan subscription in 30 s"
            await asyncio.sleep(0.1)
        return str(stored["id"])

    async def _plan(self, messages_per_period: int) -> str:
        admin = self.issuer.token("admin-of-tests", "admin")
        plan = (
            await self.gql(
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
            )
        )["createPlan"]["id"]
        tier = (
            await self.gql(
                "product",
                "mutation($p: ID!, $i: CreatePriceTierInput!) {"
                " createPriceTier(planId: $p, input: $i) { id } }",
                admin,
                p=plan,
                i={"name": "Monthly", "amount": 900, "currency": "usd", "interval": "MONTH"},
            )
        )["createPriceTier"]["id"]
        self._plans[messages_per_period] = str(tier)
        return str(tier)

    async def confirm(self, client: ClientAccount, body: str) -> str:
        """An announcement confirmed as the SMS dialogue confirms it; its id."""
        created = await self.gql(
            "user",
            "mutation($c: ID!, $b: String!, $k: String!) {"
            " confirmAnnouncement(clientId: $c, body: $b, draftKey: $k) { id } }",
            self.service_token,
            c=client.id,
            b=body,
            k=str(uuid.uuid4()),
        )
        return str(created["confirmAnnouncement"]["id"])

    async def announcement(self, announcement_id: str) -> dict[str, Any]:
        found = await self.gql(
            "user",
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Announcement {"
            " status recipients sent delivered failed stopped held completedAt } } }",
            self.service_token,
            r=[{"__typename": "Announcement", "id": announcement_id}],
        )
        return dict(found["_entities"][0])

    async def user_sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """Rows of a query on UserApi's database (what it recorded, what it published)."""
        url = with_database(self.settings.postgres_url, self.platform.databases["user"])
        conn = await asyncpg.connect(url)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def completions(self, announcement_id: str) -> list[dict[str, Any]]:
        """The data of each ``user.announcement.completed`` UserApi published for it."""
        rows = await self.user_sql(
            "SELECT payload->'data' AS data FROM outbox WHERE key = $1 AND event_type = $2",
            announcement_id,
            "user.announcement.completed",
        )
        return [json.loads(r["data"]) for r in rows]

    async def allowance(self, client_id: str) -> dict[str, Any]:
        found = await self.gql(
            "product",
            "query($c: ID!) { allowance(clientId: $c) { used remaining } }",
            self.service_token,
            c=client_id,
        )
        return dict(found["allowance"])

    async def sent_to(self, phone: str) -> list[dict[str, Any]]:
        """What Nudges sent to ``phone`` through the Messages API, oldest first."""
        answer = await self.http.get(
            self.platform.url("twilio-emulator", "/_emulator/messages"), params={"to": phone}
        )
        return list(answer.json()["messages"])

    async def emulator(self, path: str, body: dict[str, Any] | None = None) -> Any:
        url = self.platform.url("twilio-emulator", path)
        answer = await (self.http.post(url, json=body) if body is not None else self.http.get(url))
        return answer.json()

    def renders(self, key: str) -> float:
        """LocalizationApi's count of texts rendered for ``key`` (every locale)."""
        text = httpx.get(self.platform.url("localization", "/metrics"), timeout=5).text
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if (
                    sample.name == "nudges_localization_renders_total"
                    and sample.labels.get("key") == key
                ):
                    total += sample.value
        return total


@pytest.fixture(scope="package")
def fanout_broker(state_dir: Path) -> Iterator[TansuBroker]:
    """A broker of these tests' own: their events stay off the session's broker (whose other
    suites read their topics from the start), and others' events off theirs."""
    broker = TansuBroker(free_port(), log_path=state_dir / "fanout-tansu.log")
    broker.start()
    # Before any service subscribes: a consumer that subscribed to a topic not created yet
    # was given its partitions only at its next metadata refresh, minutes later.
    asyncio.run(ensure_topics(broker.bootstrap_servers, all_topics()))
    yield broker
    broker.stop()


@pytest.fixture(scope="package")
def platform(
    postgres: Postgres, fanout_broker: TansuBroker, state_dir: Path
) -> Iterator[tuple[Platform, AuthStandIn]]:
    auth = AuthStandIn(MACHINES)
    running = Platform(
        postgres.url,
        fanout_broker.bootstrap_servers,
        state_dir / "fanout-platform",
        services=SERVICES,
        # Services not started here answer nowhere, except AuthApi's stand-in.
        ports={name: free_port() for name in ORDER if name not in SERVICES}
        | {"auth": auth.server.port},
        # Scheduled announcements start (or are refused) within a second of their time.
        overrides={"user": {"SCHEDULER_POLL_SECONDS": "0.5"}},
    )
    running.state_dir.mkdir(parents=True, exist_ok=True)
    try:
        running.start()
        yield running, auth
    finally:
        running.stop()
        auth.server.stop()


@pytest.fixture(scope="package")
async def stack(
    platform: tuple[Platform, AuthStandIn], fanout_broker: TansuBroker, postgres: Postgres
) -> AsyncIterator[Stack]:
    running, auth = platform
    settings = ConsumersSettings(
        environment="test",
        postgres_url=postgres.url,
        database_name=running.databases["consumers"],
        kafka_bootstrap_servers=fanout_broker.bootstrap_servers,
        localization_url=running.grpc("localization"),
        user_url=running.url("user", "/graphql"),
        product_url=running.url("product", "/graphql"),
        auth_token_url=f"{auth.server.url}/auth/token",
        service_client_secret=CONSUMERS_SECRET,  # type: ignore[arg-type]
        twilio_api_url=running.url("twilio-emulator"),
        twilio_auth_token=TWILIO_AUTH_TOKEN,  # type: ignore[arg-type]
        twilio_status_callback_url=running.url("webhooks", "/webhooks/twilio/status"),
        sms_messages_per_second=0,
        # Every join and leave told at once; a test of the digests sets an interval of its own.
        client_digest_interval_seconds=0,
        client_digest_poll_seconds=0.2,
        # On the wall clock, a night run would hold the copies: the quiet hours tests turn
        # them on with a clock of their own.
        quiet_hours=False,
    )
    await ensure_topics(settings.kafka_bootstrap_servers, all_topics())
    pool = await create_pool(settings.database_url(), max_size=8)
    keys = NudgesSettings()  # the development keys every process of the platform uses
    vault = PhoneVault(
        keys.phone_encryption_key.get_secret_value(), keys.phone_hash_key.get_secret_value()
    )
    deps = build_deps(settings, pool)
    stack = Stack(running, auth.issuer, vault, settings, deps)
    stop = asyncio.Event()
    relay = asyncio.create_task(OutboxRelay(pool, settings, idle_interval=0.05).run(stop))
    try:
        yield stack
    finally:
        stop.set()
        await relay
        await deps.close()
        await stack.http.aclose()
        await pool.close()


@contextlib.asynccontextmanager
async def running(*consumers: EventConsumer) -> AsyncIterator[list[asyncio.Task[None]]]:
    """``consumers`` running until the block ends (each assigned its partitions first)."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(c.run(stop)) for c in consumers]
    try:
        await asyncio.wait_for(asyncio.gather(*(c.assigned.wait() for c in consumers)), 30)
        yield tasks
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)


@pytest.fixture(scope="package")
async def background_workers(stack: Stack) -> AsyncIterator[None]:
    """The fan-out, the notices and the digests' sender, for the whole session (the tests start
    the sending consumer themselves; UserApi consumes the status callbacks in its own
    process)."""
    workers = [
        *fan_out.consumers(stack.deps),
        *notifications.consumers(stack.deps),
    ]
    stop = asyncio.Event()
    digests = asyncio.create_task(client_digests.DigestSender(stack.deps).run(stop))
    try:
        async with running(*workers):
            yield
    finally:
        stop.set()
        await asyncio.wait_for(digests, 30)


@pytest.fixture(scope="package")
def run_consumers() -> Callable[..., contextlib.AbstractAsyncContextManager[Any]]:
    """``async with run_consumers(*consumers):`` runs them for the block."""
    return running


@pytest.fixture(scope="package")
async def sender(stack: Stack) -> AsyncIterator[Callable[..., EventConsumer]]:
    """Builds a new sending consumer, as a new worker process would (its own Twilio client
    and ledger connection, at ``rate`` messages per second; 0 is no limit)."""
    built: list[sms_outbound.SmsSending] = []

    def build(rate: float = 0) -> EventConsumer:
        sending = sms_outbound.SmsSending(stack.deps, TwilioSender(stack.settings, rate=rate))
        built.append(sending)
        return sms_outbound.sending_consumer(stack.deps, sending)

    yield build
    for sending in built:
        await sending.close()


class SendingWorker:
    """The session's sending consumer: started by the tests that need one, stopped by those
    that run their own (joining the group takes seconds, so it is shared)."""

    def __init__(self, build: Callable[..., EventConsumer]) -> None:
        self._build = build
        self._running: contextlib.AbstractAsyncContextManager[Any] | None = None
        self.consumer: EventConsumer | None = None

    async def start(self) -> EventConsumer:
        if self.consumer is None:
            self.consumer = self._build()
            self._running = running(self.consumer)
            await self._running.__aenter__()
        return self.consumer

    async def stop(self) -> None:
        if self._running is not None:
            running_now, self._running, self.consumer = self._running, None, None
            await running_now.__aexit__(None, None, None)


@pytest.fixture(scope="package")
async def sending_worker(sender: Callable[..., EventConsumer]) -> AsyncIterator[SendingWorker]:
    worker = SendingWorker(sender)
    yield worker
    await worker.stop()


@pytest.fixture
async def sending(sending_worker: SendingWorker) -> EventConsumer:
    """The session's sending consumer, running."""
    return await sending_worker.start()


@pytest.fixture
def spawn_sender(stack: Stack, state_dir: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Starts a sending worker in a process of its own (``sending_worker.py``), configured
    like the session's consumers; each is killed at the end of the test."""
    started: list[subprocess.Popen[bytes]] = []

    def spawn(rate: float = 0) -> subprocess.Popen[bytes]:
        env = {**os.environ, "ENVIRONMENT": "test", "LOG_JSON": "true"}
        for name, value in stack.settings.model_dump().items():
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if isinstance(value, str | int | float | bool):
                env[name.upper()] = str(value)
        env["SMS_MESSAGES_PER_SECOND"] = str(rate)
        log = open(state_dir / f"sending-worker-{len(started)}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("sending_worker.py"))],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield spawn
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


async def _eventually(check: Callable[[], Any], within: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {result!r})")
        await asyncio.sleep(0.1)


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """``await eventually(check, within=30)``: the first truthy value of ``check()``."""
    return _eventually
