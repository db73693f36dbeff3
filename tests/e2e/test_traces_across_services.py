"""One request, one trace, across real service processes: a code request at AuthApi asks
UserApi (httpx), LocalizationApi and WarpCache (gRPC), and every span they export over OTLP
(to a collector in this test) carries the same trace id and has its parent in that trace. So
does a CONFIRM, from the Twilio webhook through UserApi, the outbox, the fan-out and the
sender's call to Twilio."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from nudges_devstack.infra import Postgres, TansuBroker
from nudges_devstack.platform import Platform
from nudges_emulators.serving import ServerThread
from nudges_kit.auth import user_id_for
from nudges_kit.events.catalog import payment
from nudges_kit.kafka import make_producer, start_client
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings, with_database

SERVICES = (
    "warpcache",
    "localization",
    "registry",
    "twilio-emulator",
    "user",
    "auth",
    "product",
    "webhooks",
    "consumers",
)


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    #: A consumer span's ``messaging.consumer.group``.
    group: str = ""


class Collector:
    """An OTLP/HTTP trace receiver keeping every span it is sent, in memory."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self._lock = threading.Lock()
        app = FastAPI()

        @app.post("/v1/traces")
        async def traces(request: Request) -> Response:
            export = ExportTraceServiceRequest.FromString(await request.body())
            with self._lock:
                for resource_spans in export.resource_spans:
                    attributes = {
                        a.key: a.value.string_value for a in resource_spans.resource.attributes
                    }
                    for scope_spans in resource_spans.scope_spans:
                        self.spans += [
                            Span(
                                attributes.get("service.name", "?"),
                                span.name,
                                span.trace_id.hex(),
                                span.span_id.hex(),
                                span.parent_span_id.hex(),
                                _group(span),
                            )
                            for span in scope_spans.spans
                        ]
            return Response(b"", media_type="application/x-protobuf")

        self.server = ServerThread(app).start()

    def trace(self, trace_id: str) -> list[Span]:
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.server.stop()


@pytest.fixture(scope="module")
def traced_platform(
    postgres: Postgres,
    platform_broker: TansuBroker,
    collector: Collector,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    exporting = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.server.url,
        # Spans leave each process within a fifth of a second rather than five.
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    running = Platform(
        postgres.url,
        platform_broker.bootstrap_servers,
        tmp_path_factory.mktemp("traced"),
        services=SERVICES,
        overrides={"*": exporting},
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.mark.slow
def test_a_code_request_is_one_trace_across_auth_user_localization_and_warpcache(
    traced_platform: Platform, collector: Collector
) -> None:
    answer = httpx.post(
        traced_platform.url("auth", "/auth/otp"),
        json={"phone": "+14155550187", "role": "client"},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text

    deadline = time.monotonic() + 30
    while True:
        # The request's own span (its parent, if any, is the test's client: httpx may be
        # instrumented in this process by an earlier test).
        roots = [s for s in collector.spans if s.name == "POST /auth/otp"]
        if roots:
            spans = collector.trace(roots[0].trace_id)
            services = {s.service for s in spans}
            if {"user", "localization", "warpcache"} <= {_short(n) for n in services}:
                break
        assert time.monotonic() < deadline, f"spans so far: {collector.spans}"
        time.sleep(0.2)

    # Every span but the request's own has its parent in the same trace: nothing is orphaned.
    ids = {s.span_id for s in spans}
    assert [s for s in spans if s.parent_id not in ids] == [roots[0]]
    # UserApi's server span is a child of AuthApi's HTTP client span.
    by_id = {s.span_id: s for s in spans}
    user_servers = [s for s in spans if _short(s.service) == "user" and s.name.startswith("POST")]
    assert user_servers, spans
    assert all(_short(by_id[s.parent_id].service) == "auth" for s in user_servers)


def _login(platform: Platform, phone: str, role: str) -> str:
    with httpx.Client(base_url=platform.url("auth"), timeout=10) as http:
        asked = http.post("/auth/otp", json={"phone": phone, "role": role})
        assert asked.status_code == 202, asked.text
        code = asked.json()["code"]
        verified = http.post("/auth/otp/verify", json={"phone": phone, "code": code, "role": role})
        assert verified.status_code == 200, verified.text
        return str(verified.json()["access_token"])


def _gql(platform: Platform, subgraph: str, token: str, query: str, **variables: Any) -> Any:
    answer = httpx.post(
        platform.url(subgraph, "/graphql"),
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    body = answer.json()
    assert not body.get("errors"), body
    return body["data"]


def _eventually(check: Callable[[], Any], what: str, within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while not (value := check()):
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        time.sleep(0.1)
    return value


def _active_plan(platform: Platform, client_id: str) -> None:
    """A paid month for ``client_id``: a tier an admin creates, then ``payment.invoice.paid``
    on the broker as PaymentApi publishes it, until ProductApi has stored it."""
    settings = NudgesSettings(kafka_bootstrap_servers=platform.kafka_bootstrap_servers)
    vault = PhoneVault(
        settings.phone_encryption_key.get_secret_value(),
        settings.phone_hash_key.get_secret_value(),
    )
    admin_phone = "+14155550163"
    phone_hash = vault.hash(admin_phone)
    with psycopg.connect(with_database(platform.postgres_url, platform.databases["user"])) as conn:
        conn.execute(
            "INSERT INTO users (id, phone_hash, phone_ciphertext) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (user_id_for(phone_hash), phone_hash, vault.encrypt(admin_phone)),
        )
        conn.execute(
            "INSERT INTO admins (user_id) VALUES (%s) ON CONFLICT DO NOTHING",
            (user_id_for(phone_hash),),
        )
    admin = _login(platform, admin_phone, "admin")
    plan = _gql(
        platform,
        "product",
        admin,
        """mutation { createPlan(input: {name: "Traced", features: {messagesPerPeriod: 100,
          supportTier: BASIC, aiAssist: false}}) { id } }""",
    )["createPlan"]["id"]
    tier = _gql(
        platform,
        "product",
        admin,
        """mutation($p: ID!) { createPriceTier(planId: $p, input: {name: "Monthly",
          amount: 900, currency: "usd", interval: MONTH}) { id } }""",
        p=plan,
    )["createPriceTier"]["id"]
    now = datetime.now(UTC)
    sid = f"sub_{uuid.uuid4().hex}"
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
    _eventually(
        lambda: _gql(platform, "product", admin, query, c=client_id)["planSubscriptions"]["nodes"],
        "the plan subscription",
    )


def _text(platform: Platform, phone: str, body: str) -> str:
    """What Nudges answers ``body`` texted from ``phone`` (through the Twilio emulator, which
    signs the webhook as Twilio does)."""
    answer = httpx.post(
        platform.url("twilio-emulator", "/_emulator/inbound"),
        json={"from": phone, "body": body},
        timeout=15,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["reply"])


@pytest.mark.slow
def test_a_confirm_is_one_trace_from_the_webhook_to_the_sends(
    traced_platform: Platform, collector: Collector
) -> None:
    client_phone = "+14155550177"
    created = _gql(
        traced_platform,
        "user",
        _login(traced_platform, client_phone, "client"),
        'mutation { createClient(input: {name: "Traced Tacos", locale: "en"}) { id slug } }',
    )["createClient"]
    _active_plan(traced_platform, created["id"])
    for phone in ("+14155550178", "+14155550179"):
        _gql(
            traced_platform,
            "user",
            _login(traced_platform, phone, "subscriber"),
            "mutation($s: String!) { joinClient(slug: $s) { id } }",
            s=created["slug"],
        )
    body = f"Tacos half price tonight {uuid.uuid4().hex[:6]}"
    assert "Reply CONFIRM" in _text(traced_platform, client_phone, body)
    assert _text(traced_platform, client_phone, "CONFIRM") == "Sent to 2 subscribers."

    def sent() -> bool:
        url = traced_platform.url("twilio-emulator", "/_emulator/messages")
        messages = httpx.get(url, timeout=5).json()["messages"]
        return sum(body in str(m) for m in messages) >= 2

    _eventually(sent, "the two sends")

    # The CONFIRM's trace: the one of the fan-out's consumer span. It is whole once every
    # send reached the emulator within it and every span's parent came in (a process exports
    # a child before its parent ends).
    def whole_trace() -> list[Span] | None:
        fan_outs = [s for s in collector.spans if s.name == "consume user.announcement.confirmed"]
        if not fan_outs:
            return None
        spans = collector.trace(fan_outs[0].trace_id)
        ids = {s.span_id for s in spans}
        sends = [s for s in spans if s.service.endswith("twilio-emulator") and "Messages" in s.name]
        orphans = [s for s in spans if s.parent_id not in ids]
        return spans if len(sends) >= 2 and len(orphans) == 1 else None

    try:
        spans = _eventually(whole_trace, "one trace from the webhook to the sends", within=10)
    except AssertionError:
        ids = {s.span_id for s in collector.spans}
        for s in collector.spans:
            print(s.trace_id[:8], "parent" if s.parent_id in ids else "orphan", s.service, s.name)
        raise
    by_id = {s.span_id: s for s in spans}

    def parent(span: Span) -> tuple[str, str]:
        return _short(by_id[span.parent_id].service), by_id[span.parent_id].name

    # The root is the emulator's inbound text (its parent, if any, is the test's own request,
    # never exported): every other span has its parent in the trace.
    [root] = [s for s in spans if s.parent_id not in by_id]
    assert (_short(root.service), root.name) == ("twilio-emulator", "POST /_emulator/inbound")
    [webhook] = [s for s in spans if s.name == "POST /webhooks/twilio/sms"]
    # UserApi answers the dialogue (confirmAnnouncement among its calls) within the trace.
    assert any(
        _short(s.service) == "user" and s.name == "POST /graphql" and parent(s)[0] == "webhooks"
        for s in spans
    ), spans
    # The fan-out continues the trace from the outbox event's headers, and the sender the
    # fan-out's work item.
    groups = {(_short(s.service), s.group, s.name) for s in spans if s.group}
    assert {
        ("consumers", "fan-out", "consume user.announcement.confirmed"),
        ("consumers", "sms-outbound", "consume sms.announcement-batch"),
    } <= groups, groups
    # Every send to Twilio is a child of the sender's client span.
    sends = [s for s in spans if _short(s.service) == "twilio-emulator" and "Messages" in s.name]
    assert len(sends) >= 2
    assert all(parent(s) == ("consumers", "POST") for s in sends), [parent(s) for s in sends]
    assert parent(webhook)[0] == "twilio-emulator"


def _group(span: Any) -> str:
    """The ``messaging.consumer.group`` attribute of an OTLP span, if any."""
    for attribute in span.attributes:
        if attribute.key == "messaging.consumer.group":
            return str(attribute.value.string_value)
    return ""


def _short(service_name: str) -> str:
    """``nudges-user`` and ``user`` alike: the service's short name."""
    return service_name.removeprefix("nudges-").removesuffix("api").removesuffix("-api")


def test_the_collector_decodes_what_the_exporter_sends() -> None:
    """The receiver of the test above reads real OTLP/HTTP exports (so that an empty trace
    above means no span, not an unread one)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    receiver = Collector()
    try:
        provider = TracerProvider(resource=Resource.create({"service.name": "probe"}))
        exporter = OTLPSpanExporter(endpoint=f"{receiver.server.url}/v1/traces")
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("t")
        with tracer.start_as_current_span("outer"), tracer.start_as_current_span("inner"):
            pass
        provider.shutdown()
        outer, inner = sorted(receiver.spans, key=lambda s: s.name, reverse=True)
        assert (outer.service, outer.name, outer.parent_id) == ("probe", "outer", "")
        assert inner.parent_id == outer.span_id
        assert inner.trace_id == outer.trace_id
    finally:
        receiver.server.stop()
