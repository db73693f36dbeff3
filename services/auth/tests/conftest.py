"""AuthApi served on a free port against the real WarpCache, LocalizationApi, broker and
UserApi (the ``nudges-user`` process on a migrated database of its own, trusting this
AuthApi's JWKS), with every event on ``sms.outbound`` and ``auth.logins`` collected."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from structlog.stdlib import ProcessorFormatter

from nudges_auth.entrypoints.http import build_app
from nudges_auth.settings import AuthSettings
from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.pytest_plugin import ConsoleScript
from nudges_devstack.testing import create_migrated_database, drop_database, eventually
from nudges_kit.auth import JwtVerifier, Principal, user_id_for
from nudges_kit.events import Envelope
from nudges_kit.events.catalog.auth import login_succeeded
from nudges_kit.events.catalog.sms import sms_outbound
from nudges_kit.kafka import ensure_topics
from nudges_kit.migrations import discover
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import with_database

_phones = itertools.count(random.randrange(1000, 8000))
_addresses = itertools.count(1)


def new_phone() -> str:
    """A valid, fresh US number (no two tests share one, so rate limits stay apart)."""
    return f"+1650253{next(_phones) % 10000:04d}"


def new_ip() -> str:
    """A fresh client address, sent as ``X-Forwarded-For`` (AuthApi stands behind an ALB)."""
    n = next(_addresses)
    return f"10.{random.randrange(256)}.{n // 256 % 256}.{n % 256}"


@dataclass
class KafkaRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]

    @property
    def envelope(self) -> Envelope:
        return Envelope.from_bytes(self.value)


@dataclass
class Events:
    """Every record of AuthApi's topics since the session started."""

    records: list[KafkaRecord] = field(default_factory=list)

    def of(self, topic: str) -> list[KafkaRecord]:
        return [r for r in self.records if r.topic == topic]


class ServedApp:
    """An ASGI app served by uvicorn on a free port, in a thread of its own."""

    def __init__(self, app: FastAPI, port: int) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="authapi", daemon=True)

    def __enter__(self) -> ServedApp:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("AuthApi did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@dataclass
class Stack:
    """The running AuthApi and what the tests need to talk to it and look behind it."""

    base_url: str
    settings: AuthSettings
    vault: PhoneVault
    admin_phone: str
    user_database_url: str
    events: Events
    warpcache: str

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/auth"

    def verifier(self) -> JwtVerifier:
        """The kit's verifier, reading this AuthApi's published JWKS."""
        return JwtVerifier(
            f"{self.auth_url}/.well-known/jwks.json",
            self.settings.jwt_issuer,
            self.settings.jwt_audience,
        )

    async def verify(self, token: str) -> Principal:
        return await self.verifier().verify(token)

    async def sms_to(self, phone: str, after: int = 0, within: float = 20.0) -> Envelope:
        """The next ``sms.outbound`` event (from record ``after`` on) addressed to ``phone``."""
        found: list[Envelope] = []

        def check() -> bool:
            for record in self.events.of(sms_outbound.topic)[after:]:
                envelope = record.envelope
                if self.vault.decrypt(envelope.data["to_ciphertext"]) == phone:
                    found.append(envelope)
                    return True
            return False

        await eventually(check, within=within, interval=0.05)
        return found[0]

    async def code_sent_to(self, phone: str, after: int = 0) -> str:
        """The six digits of the SMS sent to ``phone``."""
        body = (await self.sms_to(phone, after)).data["body"]
        match = re.search(r"\b(\d{6})\b", body)
        assert match, body
        return match.group(1)

    def sms_count(self) -> int:
        return len(self.events.of(sms_outbound.topic))

    new_phone = staticmethod(new_phone)
    new_ip = staticmethod(new_ip)

    async def login(
        self, http: httpx.AsyncClient, phone: str, role: str = "client"
    ) -> httpx.Response:
        """Request a code for ``phone``, read it from the SMS event, and verify it."""
        after = self.sms_count()
        requested = await http.post("/otp", json={"phone": phone, "role": role})
        assert requested.status_code == 202, requested.text
        code = await self.code_sent_to(phone, after)
        verified = await http.post("/otp/verify", json={"phone": phone, "code": code, "role": role})
        assert verified.status_code == 200, verified.text
        return verified

    def set_admin(self, phone: str, admin: bool = True) -> None:
        """Make ``phone`` an admin in UserApi's database (what the dev seed does), or not."""
        set_admin(self.user_database_url, self.vault, phone, admin)


@pytest.fixture(scope="session")
def auth_broker(state_dir: Path) -> Iterator[TansuBroker]:
    """A broker of these tests' own. Their stack runs a UserApi process for the whole session,
    and with it UserApi's consumer groups: on the session's broker those would take, from the
    UserApi tests, the events they publish."""
    broker = TansuBroker(free_port(), log_path=state_dir / "auth-tansu.log")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
async def events(auth_broker: TansuBroker) -> AsyncIterator[Events]:
    """Collects ``sms.outbound`` and ``auth.logins`` in the background."""
    topics = [sms_outbound.topic, login_succeeded.topic]
    await ensure_topics(auth_broker.bootstrap_servers, topics)
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=auth_broker.bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    collected = Events()

    async def collect() -> None:
        async for message in consumer:
            collected.records.append(
                KafkaRecord(message.topic, message.key, message.value or b"", list(message.headers))
            )

    task = asyncio.create_task(collect())
    try:
        yield collected
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()


def auth_settings(
    *,
    port: int,
    warpcache: str,
    localization: str,
    kafka: str,
    keys_file: Path,
    **overrides: Any,
) -> AuthSettings:
    """Settings of an AuthApi under test (behind a load balancer: tests pick their address)."""
    values: dict[str, Any] = {
        "environment": "test",
        "log_json": True,
        "http_port": port,
        "jwt_issuer": f"http://127.0.0.1:{port}/auth",
        "jwks_url": f"http://127.0.0.1:{port}/auth/.well-known/jwks.json",
        "warpcache_url": warpcache,
        "localization_url": localization,
        "kafka_bootstrap_servers": kafka,
        "jwt_keys_file": keys_file,
        "client_address_topology": "alb",
        "oidc_redirect_url": f"http://127.0.0.1:{port}/auth/callback",
        **overrides,
    }
    return AuthSettings(**values)


def set_admin(database_url: str, vault: PhoneVault, phone: str, admin: bool = True) -> None:
    """Make ``phone`` an admin in UserApi's database (what the dev seed does), or not."""
    phone_hash = vault.hash(phone)
    user_id = uuid.UUID(user_id_for(phone_hash))
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO users (id, phone_hash, phone_ciphertext, locale) VALUES (%s, %s, %s, 'en')"
            " ON CONFLICT (phone_hash) DO NOTHING",
            (user_id, phone_hash, vault.encrypt(phone)),
        )
        if admin:
            conn.execute(
                "INSERT INTO admins (user_id) VALUES (%s) ON CONFLICT DO NOTHING", (user_id,)
            )
        else:
            conn.execute("DELETE FROM admins WHERE user_id = %s", (user_id,))


@pytest.fixture(scope="session")
def stack(
    postgres: Postgres,
    auth_broker: TansuBroker,
    warpcache_server: str,
    localization_server: str,
    events: Events,
    state_dir: Path,
) -> Iterator[Stack]:
    user_set = next(s for s in discover() if s.service == "user")
    database = create_migrated_database(postgres.url, user_set)
    database_url = with_database(postgres.url, database)
    auth_port, user_port = free_port(), free_port()
    settings = auth_settings(
        port=auth_port,
        warpcache=warpcache_server,
        localization=localization_server,
        kafka=auth_broker.bootstrap_servers,
        keys_file=state_dir / "auth" / "jwt-keys.json",
        user_url=f"http://127.0.0.1:{user_port}/graphql",
    )
    vault = PhoneVault(
        settings.phone_encryption_key.get_secret_value(), settings.phone_hash_key.get_secret_value()
    )
    admin_phone = new_phone()
    set_admin(database_url, vault, admin_phone)
    user_api = ConsoleScript(
        "nudges-user",
        {
            "HTTP_PORT": str(user_port),
            "POSTGRES_URL": postgres.url,
            "DATABASE_NAME": database,
            "KAFKA_BOOTSTRAP_SERVERS": auth_broker.bootstrap_servers,
            "JWKS_URL": settings.jwks_url,
            "JWT_ISSUER": settings.jwt_issuer,
        },
        user_port,
        state_dir / "nudges-user.log",
    )
    try:
        with ServedApp(build_app(settings), auth_port):
            user_api.start()
            try:
                yield Stack(
                    f"http://127.0.0.1:{auth_port}",
                    settings,
                    vault,
                    admin_phone,
                    database_url,
                    events,
                    warpcache_server,
                )
            finally:
                user_api.stop()
    finally:
        asyncio.run(drop_database(postgres.url, database))


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the AuthApi under test, from an address of its own. It keeps no cookies:
    tests send the ones they mean to."""
    async with httpx.AsyncClient(
        base_url=stack.auth_url, headers={"X-Forwarded-For": new_ip()}, timeout=30
    ) as client:
        client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        yield client


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log line as it leaves the service (after redaction), while the test runs."""
    root = logging.getLogger()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    service_formatters = [
        h.formatter for h in root.handlers if isinstance(h.formatter, ProcessorFormatter)
    ]
    assert service_formatters, "the service's log configuration is not installed"
    handler.setFormatter(service_formatters[0])
    root.addHandler(handler)
    try:
        yield out
    finally:
        root.removeHandler(handler)


@pytest.fixture
async def app_with(
    stack: Stack,
    warpcache_server: str,
    localization_server: str,
    auth_broker: TansuBroker,
    state_dir: Path,
) -> AsyncIterator[Callable[..., Awaitable[httpx.AsyncClient]]]:
    """Another AuthApi, in this process, with some settings changed: ``await app_with(...)``
    gives a client of it (``base_url`` ``http://auth.test/auth``)."""
    async with contextlib.AsyncExitStack() as running:

        async def make(**overrides: Any) -> httpx.AsyncClient:
            settings = auth_settings(
                port=80,
                warpcache=warpcache_server,
                localization=localization_server,
                kafka=auth_broker.bootstrap_servers,
                keys_file=state_dir / "auth" / "jwt-keys.json",
                user_url=stack.settings.user_url,
                # The same issuer and keys as the stack's: its verifier accepts these tokens.
                jwt_issuer=stack.settings.jwt_issuer,
                **overrides,
            )
            app = build_app(settings)
            running.push_async_callback(app.state.auth.close)
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://auth.test/auth",
                headers={"X-Forwarded-For": new_ip()},
            )
            client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
            return await running.enter_async_context(client)

        yield make
