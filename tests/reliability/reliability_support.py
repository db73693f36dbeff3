"""What the reliability suites share: calls as a person would make them (OTP login, GraphQL
on a subgraph, signed webhooks), the phone numbers the run used, dead letters, Stripe
objects, and the figures printed at the end of the run."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import phonenumbers
import psycopg
import stripe
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from nudges_devstack.platform import Platform
from nudges_kit.auth import user_id_for
from nudges_kit.dlq import DeadLetter, read_dead_letters
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings, with_database

T = TypeVar("T")

#: Every figure a test measured, printed at the end of the run (``make test-reliability``).
FIGURES: dict[str, str] = {}
#: Every phone number (E.164) the run used: none may appear in clear in a log or an event.
PHONES_USED: set[str] = set()
_phone_lock = threading.Lock()
_phone_counter = itertools.count()
#: Area codes with fictional 555-01xx numbers: 100 numbers each.
_AREAS = (
    "415",
    "628",
    "650",
    "212",
    "646",
    "718",
    "312",
    "617",
    "303",
    "206",
    "202",
    "305",
    "404",
    "512",
    "602",
    "702",
    "713",
    "801",
    "919",
    "971",
)
_ip_counter = itertools.count(1)


def figure(name: str, value: str) -> None:
    """Record a figure of this run."""
    FIGURES[name] = value


def new_phone() -> str:
    """A fresh North-American number in E.164, recorded as used."""
    with _phone_lock:
        n = next(_phone_counter)
        phone = f"+1{_AREAS[n // 100 % len(_AREAS)]}55501{n % 100:02d}"
        PHONES_USED.add(phone)
    return phone


def use_phone(phone: str) -> str:
    """Record ``phone`` (any country, E.164) as used by the run."""
    with _phone_lock:
        PHONES_USED.add(phone)
    return phone


def written_forms(phone: str) -> set[str]:
    """The ways ``phone`` could be written in a log: E.164, international and national
    formats, and the bare national digits."""
    parsed = phonenumbers.parse(phone)
    forms = {
        phone,
        phone.lstrip("+"),
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL),
        str(parsed.national_number),
    }
    national = str(parsed.national_number)
    if parsed.country_code == 1:
        forms |= {
            f"{national[:3]}-{national[3:6]}-{national[6:]}",
            f"{national[:3]}.{national[3:6]}.{national[6:]}",
            f"{national[:3]} {national[3:6]} {national[6:]}",
        }
    return forms


def client_ip() -> str:
    """A client address for ``X-Forwarded-For`` (documentation ranges TEST-NET-2 and -3, only
    ever a header value: every request goes to loopback), one of 500 in turn, so that the
    per-address rate limit (20 per 10 minutes) sees separate callers."""
    n = next(_ip_counter)
    return f"{('198.51.100', '203.0.113')[n // 250 % 2]}.{n % 250 + 1}"


def eventually(check: Callable[[], T | None], within: float = 30.0, interval: float = 0.2) -> T:
    """The first truthy value of ``check()``; fails after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within}s (last: {value!r})")
        time.sleep(interval)


def vault() -> PhoneVault:
    """The phone vault with the development keys every process of the platform uses."""
    settings = NudgesSettings()
    return PhoneVault(
        settings.phone_encryption_key.get_secret_value(), settings.phone_hash_key.get_secret_value()
    )


@dataclass(frozen=True)
class Login:
    """A signed-in person: the access token (JWT), the session id and the refresh token."""

    phone: str
    access_token: str
    token_id: str
    refresh_token: str


@dataclass(frozen=True)
class PayingClient:
    """A client with a public page and an active plan bought through Stripe checkout."""

    login: Login
    client_id: str
    slug: str
    plan_id: str
    tier_id: str


def login(platform: Platform, phone: str, role: str = "client") -> Login:
    """Sign in with an OTP (the platform echoes codes), from an address of its own."""
    use_phone(phone)
    headers = {"X-Forwarded-For": client_ip()}
    with httpx.Client(base_url=platform.url("auth"), timeout=20, headers=headers) as http:
        asked = http.post("/auth/otp", json={"phone": phone, "role": role})
        assert asked.status_code == 202, asked.text
        code = asked.json()["code"]
        verified = http.post("/auth/otp/verify", json={"phone": phone, "code": code, "role": role})
        assert verified.status_code == 200, verified.text
        body = verified.json()
        return Login(
            phone, body["access_token"], verified.cookies["TokenId"], body["refresh_token"]
        )


def gql_body(
    platform: Platform,
    subgraph: str,
    token: str | None,
    query: str,
    http_status: int = 200,
    **variables: Any,
) -> dict[str, Any]:
    """The whole GraphQL response of ``query`` on ``subgraph`` (HTTP ``http_status`` expected)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        platform.url(subgraph, "/graphql"),
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=20,
    )
    assert response.status_code == http_status, response.text
    body: dict[str, Any] = response.json()
    return body


def gql(
    platform: Platform, subgraph: str, token: str | None, query: str, **variables: Any
) -> dict[str, Any]:
    """The data of a GraphQL call that must succeed."""
    body = gql_body(platform, subgraph, token, query, **variables)
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


def make_admin(platform: Platform, phone: str) -> None:
    """Seed ``phone`` as an admin in UserApi's database (as ``nudges-dev`` seeds one)."""
    use_phone(phone)
    keys = vault()
    phone_hash = keys.hash(phone)
    with psycopg.connect(database_url(platform, "user")) as conn:
        conn.execute(
            "INSERT INTO users (id, phone_hash, phone_ciphertext) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (user_id_for(phone_hash), phone_hash, keys.encrypt(phone)),
        )
        conn.execute(
            "INSERT INTO admins (user_id) VALUES (%s) ON CONFLICT DO NOTHING",
            (user_id_for(phone_hash),),
        )


def database_url(platform: Platform, service: str) -> str:
    """The URL of ``service``'s database on the platform."""
    return with_database(platform.postgres_url, platform.databases[service])


def sql(platform: Platform, service: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of ``query`` on ``service``'s database."""
    with psycopg.connect(database_url(platform, service)) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


CREATE_PLAN = """mutation($n: String!) { createPlan(input: {name: $n, description: "Reliability",
  features: {messagesPerPeriod: 100, supportTier: BASIC, aiAssist: false}}) { id } }"""
CREATE_TIER = """mutation($p: ID!, $a: Int!) { createPriceTier(planId: $p, input: {name: "Monthly",
  amount: $a, currency: "usd", interval: MONTH}) { id } }"""
CREATE_CLIENT = """mutation($n: String!, $s: String!) {
  createClient(input: {name: $n, slug: $s}) { id } }"""
PLAN_SYNC = "query($id: ID!) { plan(id: $id) { stripeProductId tiers { id stripePriceId } } }"
#: Stripe ids are for staff: an admin reads them.
CLIENT_SYNC = "query($id: ID!) { client(id: $id) { stripeCustomerId } }"
SESSION_STRIPE_ID = "query($id: ID!) { checkoutSession(id: $id) { stripeSessionId } }"


def stripe_list(platform: Platform, kind: str) -> list[dict[str, Any]]:
    """Every object of ``kind`` (``products``, ``prices``, ``customers``) in the emulator."""
    client = stripe.StripeClient(
        "sk_test_reliability", base_addresses={"api": platform.url("stripe-emulator")}
    )
    found: list[dict[str, Any]] = []
    page = getattr(client.v1, kind).list({"limit": 100})
    for item in page.auto_paging_iter():
        found.append(item.to_dict())
    return found


def stripe_faults(platform: Platform, **change: Any) -> None:
    """Configure ``/_emulator/faults`` of the Stripe emulator."""
    httpx.post(platform.url("stripe-emulator", "/_emulator/faults"), json=change).raise_for_status()


def dead_letters(platform: Platform, topic: str) -> list[DeadLetter]:
    """The dead letters of ``topic`` on the platform's broker, now."""
    settings = NudgesSettings(kafka_bootstrap_servers=platform.kafka_bootstrap_servers)
    return asyncio.run(read_dead_letters(settings, topic))


def nudges_cli(platform: Platform, *args: str) -> str:
    """Run the operators' ``nudges`` command against the platform; its standard output."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers,
        "POSTGRES_URL": platform.postgres_url,
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "nudges"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def dlq_list(platform: Platform, topic: str) -> list[dict[str, Any]]:
    """``nudges dlq list <topic>``: one summary per dead letter."""
    out = nudges_cli(platform, "dlq", "list", topic)
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def log_lines(platform: Platform, name: str) -> list[str]:
    """Every line service ``name`` wrote so far."""
    path = platform.log_path(name)
    return path.read_text(errors="replace").splitlines() if path.exists() else []


def server_errors_logged(platform: Platform, name: str, since_line: int = 0) -> list[str]:
    """Lines after ``since_line`` of ``name``'s log that record an unhandled exception."""
    return [
        line
        for line in log_lines(platform, name)[since_line:]
        if "Traceback" in line or '"level":"error"' in line.replace(" ", "")
    ]


def stripe_signature(payload: bytes, secret: str, at: int | None = None) -> str:
    """A ``Stripe-Signature`` header for ``payload``, as Stripe signs it."""
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def twilio_signature(url: str, params: dict[str, str], token: str) -> str:
    """An ``X-Twilio-Signature`` for a form post of ``params`` to ``url``."""
    from twilio.request_validator import RequestValidator

    return str(RequestValidator(token).compute_signature(url, params))


class Subscription:
    """One GraphQL subscription over graphql-transport-ws."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket

    async def next(self, within: float) -> dict[str, Any] | None:
        """The next ``next`` payload, or None when nothing came ``within`` seconds."""
        try:
            async with asyncio.timeout(within):
                while True:
                    message = json.loads(await self._socket.recv())
                    if message["type"] == "next":
                        payload: dict[str, Any] = message["payload"]
                        return payload
                    if message["type"] in ("error", "complete"):
                        raise AssertionError(f"subscription ended: {message}")
        except TimeoutError:
            return None


@contextlib.asynccontextmanager
async def subscription(
    url: str, token: str, query: str, **variables: Any
) -> AsyncIterator[Subscription]:
    """Subscribe to ``query`` at ``url`` (``ws://.../graphql``) as the bearer of ``token``."""
    async with websockets.connect(
        url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=10,
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        await socket.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables},
                }
            )
        )
        yield Subscription(socket)


def signing_key(platform: Platform) -> tuple[str, Any]:
    """The ``kid`` and private key AuthApi signs with now (from the platform's keys file)."""
    from cryptography.hazmat.primitives import serialization

    keys = json.loads((platform.state_dir / "jwt-keys.json").read_text())["keys"]
    current = max(
        (k for k in keys if float(k.get("not_before", 0)) <= time.time()),
        key=lambda k: float(k.get("not_before", 0)),
    )
    return current["kid"], serialization.load_pem_private_key(current["private_key"].encode(), None)


def signing_algorithm(key: Any) -> str:
    """The JWS ``alg`` AuthApi signs with ``key``: EdDSA for Ed25519, else RS256."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return "EdDSA" if isinstance(key, ed25519.Ed25519PrivateKey) else "RS256"


def mint_token(platform: Platform, phone: str, role: str, **overrides: Any) -> str:
    """An access token for ``phone`` as AuthApi would sign it (its own key), with
    ``overrides`` replacing claims: a person without the round trips of an OTP login."""
    import jwt

    use_phone(phone)
    keys = vault()
    phone_hash = keys.hash(phone)
    now = int(time.time())
    subject = user_id_for(phone_hash)
    claims: dict[str, Any] = {
        "iss": platform.url("auth", "/auth"),
        "aud": "nudges",
        "sub": subject,
        "roles": [role],
        "locale": "en",
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "phone_hash": phone_hash,
        "phone_ct": keys.encrypt(phone),
        **({"client_id": subject} if role == "client" else {}),
    }
    claims.update(overrides)
    kid, key = signing_key(platform)
    return jwt.encode(claims, key, algorithm=signing_algorithm(key), headers={"kid": kid})


@dataclass(frozen=True)
class Record:
    """One message of the broker, as bytes."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    def texts(self) -> list[str]:
        """What a reader of the message sees: key, value, headers, and the original record
        inside a dead letter."""
        out = [self.key.decode(errors="replace"), self.value.decode(errors="replace")]
        out += [f"{k}={v.decode(errors='replace')}" for k, v in self.headers]
        if self.topic.endswith(".dlq"):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                inner = base64.b64decode(json.loads(self.value)["value_b64"])
                out.append(inner.decode(errors="replace"))
        return out


def every_message(platform: Platform) -> list[Record]:
    """Every message on every topic of the platform's broker, now."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def read() -> list[Record]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=platform.kafka_bootstrap_servers,
            enable_auto_commit=False,
            group_id=None,
        )
        await consumer.start()
        records: list[Record] = []
        try:
            topics = await consumer.topics()
            tps = [
                TopicPartition(topic, partition)
                for topic in sorted(topics)
                for partition in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            if not tps:
                return []
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            end = await consumer.end_offsets(tps)
            remaining = {tp for tp in tps if end[tp] > 0}
            deadline = time.monotonic() + 60
            while remaining and time.monotonic() < deadline:
                batch = await consumer.getmany(*remaining, timeout_ms=1000)
                for tp, messages in batch.items():
                    for m in messages:
                        if m.offset < end[tp]:
                            records.append(
                                Record(
                                    tp.topic,
                                    m.key or b"",
                                    m.value or b"",
                                    tuple((k, v) for k, v in (m.headers or ())),
                                )
                            )
                for tp in list(remaining):
                    if await consumer.position(tp) >= end[tp]:
                        remaining.discard(tp)
        finally:
            await consumer.stop()
        return records

    return asyncio.run(read())
