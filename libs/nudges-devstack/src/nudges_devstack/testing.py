"""Helpers for tests that run consumers against the real broker."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
import psycopg
import structlog
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from jwt.algorithms import RSAAlgorithm
from pydantic import BaseModel
from tenacity import AsyncRetrying, RetryError, retry_if_not_result, stop_after_delay, wait_fixed

from nudges_emulators.serving import ServerThread
from nudges_kit import dlq
from nudges_kit.auth import JwtVerifier, user_id_for
from nudges_kit.consumer import EventConsumer, Handler
from nudges_kit.events import EventRegistry, EventType
from nudges_kit.kafka import all_topics, ensure_topics, make_producer
from nudges_kit.migrations import MigrationSet, upgrade
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings, with_database


class Counted(BaseModel):
    seq: int


def fresh_event_type(registry: EventRegistry) -> EventType[Counted]:
    """An event type on a topic of its own, so that tests do not see each other's events."""
    suffix = uuid.uuid4().hex[:8]
    return registry.declare(f"test.counted.{suffix}", f"test.counted-{suffix}", Counted)


@contextlib.asynccontextmanager
async def running_consumer(
    settings: NudgesSettings,
    pool: asyncpg.Pool,
    registry: EventRegistry,
    handlers: Mapping[EventType[Any], Handler],
    **kwargs: Any,
) -> AsyncIterator[EventConsumer]:
    """A consumer running in the background until the block ends."""
    consumer = EventConsumer(
        group=f"test-{uuid.uuid4().hex[:8]}",
        settings=settings,
        pool=pool,
        handlers=handlers,
        registry=registry,
        backoff_initial=0.01,
        backoff_max=0.05,
        **kwargs,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield consumer
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def eventually(check: Any, within: float = 30.0, interval: float = 0.1) -> None:
    """Wait until ``check()`` is true (it may be async), asking every ``interval`` seconds, or
    fail after ``within`` seconds; an exception of ``check`` ends the wait at once."""

    async def once() -> Any:
        result = check()
        return await result if asyncio.iscoroutine(result) else result

    retrying = AsyncRetrying(
        stop=stop_after_delay(within), wait=wait_fixed(interval), retry=retry_if_not_result(bool)
    )
    try:
        await retrying(once)
    except RetryError:
        raise AssertionError(f"condition not met within {within}s") from None


def create_migrated_database(server_url: str, migration_set: MigrationSet) -> str:
    """A new database migrated with ``migration_set``; returns its name."""
    name = f"test_{migration_set.database}_{uuid.uuid4().hex[:8]}"
    upgrade(migration_set, server_url, database=name)
    return name


async def park_dead_letter(
    bootstrap_servers: str,
    topic: str,
    value: bytes,
    event_id: str,
    event_type: str,
    key: str = "k",
) -> None:
    """Put one failed event of ``topic`` on its dead-letter topic, as a consumer that gave up
    on it after six attempts would."""
    settings = NudgesSettings(kafka_bootstrap_servers=bootstrap_servers)
    await ensure_topics(bootstrap_servers, all_topics())
    letter = dlq.DeadLetter(
        topic=topic,
        partition=0,
        offset=int(uuid.uuid4().int % 10**9),
        key=key,
        value_b64=base64.b64encode(value).decode(),
        headers=[],
        consumer_group="notifications",
        error="Twilio answered 500",
        error_type="RuntimeError",
        attempts=6,
        failed_at=datetime.now(UTC),
        event_id=event_id,
        event_type=event_type,
    )
    producer = make_producer(settings)
    await producer.start()
    try:
        await dlq.send_dead_letter(producer, letter)
    finally:
        await producer.stop()


async def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name``, closing whatever still uses it."""
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


class TokenIssuer:
    """Signs JWTs the way AuthApi does, for subgraph tests (``verifier()`` trusts its key)."""

    def __init__(
        self, issuer: str = "http://127.0.0.1:4001/auth", audience: str = "nudges"
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update(kid="test-key", use="sig", alg="RS256")
        self.jwks = {"keys": [jwk]}

    def token(self, subject: str, *roles: str, ttl: int = 300, **claims: Any) -> str:
        """A signed access token for ``subject`` with ``roles`` and extra ``claims``."""
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + ttl,
            "roles": list(roles),
            "locale": "en",
            **claims,
        }
        return jwt.encode(body, self._key, algorithm="RS256", headers={"kid": "test-key"})

    def verifier(self) -> JwtVerifier:
        """A verifier that trusts this issuer's key for as long as the test session lasts
        (it never goes to fetch them: there is nothing to fetch them from)."""
        verifier = JwtVerifier(
            "http://unused.invalid/jwks", self.issuer, self.audience, cache_seconds=float("inf")
        )
        verifier.use_jwks(self.jwks)
        return verifier


@dataclass
class Caller:
    """A person with a phone number, signed in with some roles."""

    #: The Nudges user id (derived from the phone hash, as every service derives it).
    subject: str
    phone: str
    token: str


class SubgraphClient:
    """A running subgraph under test: GraphQL calls as anyone, and SQL on its database."""

    def __init__(self, client: Any, issuer: TokenIssuer, vault: PhoneVault, database_url: str):
        self.client = client
        self.issuer = issuer
        self.vault = vault
        self.database_url = database_url
        self._phones = 0

    def person(self, *roles: str, subject: str | None = None) -> Caller:
        """A new person with a fresh phone number and a token carrying ``roles``."""
        self._phones += 1
        phone = f"+1415555{self._phones:04d}"
        phone_hash = self.vault.hash(phone)
        user_id = user_id_for(phone_hash)
        token = self.issuer.token(
            subject or user_id, *roles, phone_hash=phone_hash, phone_ct=self.vault.encrypt(phone)
        )
        return Caller(user_id, phone, token)

    def service_token(self) -> str:
        """A token of a machine account."""
        return self.issuer.token("consumers", "service")

    def gql(self, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        """The GraphQL response body (HTTP 200 expected)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def ok(self, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        """The data of a call that must succeed."""
        body = self.gql(query, token, **variables)
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    def error_code(self, query: str, token: str | None = None, **variables: Any) -> str:
        """The ``extensions.code`` of a call that must fail."""
        body = self.gql(query, token, **variables)
        assert body.get("errors"), body
        return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]

    def first_push(
        self,
        token: str | None,
        query: str,
        variables: dict[str, Any],
        poke: Callable[[], None],
    ) -> dict[str, Any]:
        """The first message of a subscription as a response body ({"data"} or {"errors"}),
        changing the data with ``poke`` until it comes (a refusal comes without a change)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with self.client.websocket_connect(
            "/graphql", subprotocols=["graphql-transport-ws"], headers=headers
        ) as ws:
            ws.send_json({"type": "connection_init", "payload": {}})
            assert ws.receive_json()["type"] == "connection_ack"
            payload = {"query": query, "variables": variables}
            ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
            stop = threading.Event()

            def keep_poking() -> None:
                while not stop.wait(0.2):
                    poke()

            poker = threading.Thread(target=keep_poking, daemon=True)
            poker.start()
            try:
                message = ws.receive_json()
            finally:
                stop.set()
                poker.join()
        if message["type"] == "error":
            return {"errors": message["payload"]}
        assert message["type"] == "next", message
        return message["payload"]  # type: ignore[no-any-return]

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of a query on the subgraph's database."""
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(query, params).fetchall()


def undocumented(parser: argparse.ArgumentParser, path: str = "") -> list[str]:
    """Every sub-command and argument of ``parser`` without help text, by its command path."""
    missing: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                if not helps.get(name):
                    missing.append(f"{path} {name}".strip())
                missing += undocumented(sub, f"{path} {name}".strip())
        elif not action.help and action.dest != "help":
            missing.append(f"{path} {action.dest}".strip())
    return missing


class AccessLines(logging.Handler):
    """The access log lines (:mod:`nudges_kit.access_log`) written while installed, rendered
    as JSON objects the way a service writes them."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []
        self.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.JSONRenderer(),
                ]
            )
        )

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        """The first line matching ``predicate`` (the server writes it after answering)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if predicate(line):
                    return line
            time.sleep(0.02)
        raise AssertionError(f"no such access line among {self.lines}")


@contextlib.contextmanager
def access_lines() -> Iterator[AccessLines]:
    """Collect the access log lines written inside the block at INFO (by servers in this
    process)."""
    handler = AccessLines()
    logger = logging.getLogger("nudges.access")
    level = logger.level
    # At INFO whatever the app's level: what a service at its default level writes.
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class AuthStandIn:
    """AuthApi's ``/auth/.well-known/jwks.json`` and ``/auth/token`` (the client-credentials
    grant of the machine accounts in ``machines``, name to secret) for a test issuer, on a
    free port: what a platform of a few services needs of AuthApi."""

    def __init__(self, machines: Mapping[str, str]) -> None:
        app = FastAPI()
        self.server = ServerThread(app)
        self.issuer = TokenIssuer(issuer=f"{self.server.url}/auth")

        @app.get("/auth/.well-known/jwks.json")
        async def jwks() -> dict[str, Any]:
            return self.issuer.jwks

        @app.post("/auth/token")
        async def token(request: Request) -> Any:
            scheme, _, value = request.headers.get("authorization", "").partition(" ")
            name, _, secret = base64.b64decode(value).decode().partition(":")
            if scheme.lower() != "basic" or machines.get(name) != secret:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            access = self.issuer.token(name, "service", ttl=600)
            return {"access_token": access, "token_type": "Bearer", "expires_in": 600}

        self.server.start()
