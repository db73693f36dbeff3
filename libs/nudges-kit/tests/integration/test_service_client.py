"""The service client against a real HTTP server standing in for a subgraph and for AuthApi's
token endpoint: what it sends, what it parses, and which error class each failure becomes (the
consumer loop waits for an unavailable service, dead-letters a refusal, retries the rest)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from opentelemetry import trace
from prometheus_client import REGISTRY

from nudges_devstack.infra import free_port
from nudges_emulators.serving import ServerThread
from nudges_kit.consumer import DependencyUnavailable, PermanentError
from nudges_kit.operations import Subgraph
from nudges_kit.operations import product as product_ops
from nudges_kit.operations import user as user_ops
from nudges_kit.service_auth import ServiceTokenProvider
from nudges_kit.service_client import (
    ServiceCallError,
    ServiceClient,
    ServiceRefused,
    ServiceUnavailable,
    error_for,
)
from nudges_kit.telemetry import configure_tracing

IDENTITY = {
    "userId": "u1",
    "locale": "es",
    "activeMemberships": 2,
    "stoppedMemberships": 1,
    "client": {
        "id": "c1",
        "name": "Casa",
        "locale": "es",
        "subscriberCount": 7,
        "audienceLocales": [{"locale": "en", "count": 2}, {"locale": "es", "count": 5}],
    },
}


@dataclass
class StandIn:
    """A subgraph at ``/graphql`` and a token endpoint at ``/auth/token``, scripted by tests."""

    url: str = ""
    #: The next answers of ``/graphql`` (status, JSON body or text); then ``IDENTITY``.
    answers: list[tuple[int, Any]] = field(default_factory=list)
    #: Seconds ``/graphql`` waits before answering.
    delay: float = 0.0
    #: Tokens ``/graphql`` answers UNAUTHENTICATED to (expired, or of a rotated key).
    refused_tokens: set[str] = field(default_factory=set)
    #: What ``/auth/token`` answers: None issues ``token-<n>``.
    token_status: int | None = None
    issued: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/auth/token")
        async def token() -> Response:
            if self.token_status is not None:
                return JSONResponse({"error": "invalid_client"}, self.token_status)
            self.issued += 1
            return JSONResponse({"access_token": f"token-{self.issued}", "expires_in": 900})

        @app.post("/graphql")
        async def graphql(request: Request) -> Response:
            self.requests.append({"headers": dict(request.headers), **await request.json()})
            await asyncio.sleep(self.delay)
            bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
            if bearer in self.refused_tokens:
                refusal = {"message": "invalid token", "extensions": {"code": "UNAUTHENTICATED"}}
                return JSONResponse({"data": None, "errors": [refusal]})
            status, body = self.answers.pop(0) if self.answers else (200, None)
            if isinstance(body, str):
                return PlainTextResponse(body, status)
            return JSONResponse(body or {"data": {"phoneIdentity": IDENTITY}}, status)

        return app

    def reset(self) -> None:
        self.answers.clear()
        self.requests.clear()
        self.refused_tokens.clear()
        self.delay = 0.0
        self.token_status = None


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    stand_in = StandIn()
    server = ServerThread(stand_in.app()).start()
    stand_in.url = server.url
    try:
        yield stand_in
    finally:
        server.stop()


@pytest.fixture
async def client(stand_in: StandIn) -> AsyncIterator[ServiceClient]:
    stand_in.reset()
    tokens = ServiceTokenProvider(f"{stand_in.url}/auth/token", "webhooks", "secret")
    async with (
        tokens,
        ServiceClient({Subgraph.USER: f"{stand_in.url}/graphql"}, tokens, timeout=2.0) as client,
    ):
        yield client


def _calls(outcome: str) -> float:
    labels = {"subgraph": "user", "operation": "PhoneIdentity", "outcome": outcome}
    return REGISTRY.get_sample_value("nudges_service_calls_total", labels) or 0.0


def _refusal(code: str) -> tuple[int, Any]:
    return 200, {"data": None, "errors": [{"message": "no", "extensions": {"code": code}}]}


async def test_a_call_sends_the_operation_with_a_machine_token_and_parses_its_result(
    client: ServiceClient, stand_in: StandIn
) -> None:
    ok = _calls("ok")
    identity = await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h1"))
    again = await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h2"))
    assert identity == again
    assert identity.client == user_ops.IdentifiedClient(
        id="c1",
        name="Casa",
        locale="es",
        subscriber_count=7,
        audience_locales=[
            user_ops.LocaleAudience(locale="en", count=2),
            user_ops.LocaleAudience(locale="es", count=5),
        ],
    )
    assert identity.has_memberships
    first, second = stand_in.requests
    assert first["operationName"] == "PhoneIdentity"
    assert first["variables"] == {"phoneHash": "h1"}
    assert first["query"] == user_ops.phone_identity.document
    # One token, fetched once and reused.
    assert first["headers"]["authorization"] == second["headers"]["authorization"]
    assert first["headers"]["authorization"].startswith("Bearer token-")
    assert _calls("ok") == ok + 2


@pytest.mark.parametrize("code", ["BAD_USER_INPUT", "NOT_FOUND", "FORBIDDEN", "CONFLICT"])
async def test_a_refusal_retrying_cannot_fix_is_permanent(
    client: ServiceClient, stand_in: StandIn, code: str
) -> None:
    stand_in.answers.append(_refusal(code))
    refused = _calls("refused")
    with pytest.raises(ServiceRefused) as caught:
        await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"))
    assert _calls("refused") == refused + 1
    assert isinstance(caught.value, PermanentError)
    assert not isinstance(caught.value, DependencyUnavailable)
    assert (caught.value.code, caught.value.operation) == (code, "PhoneIdentity")


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (_refusal("INTERNAL_SERVER_ERROR"), "INTERNAL_SERVER_ERROR"),
        (_refusal("OPERATION_TIMEOUT"), "OPERATION_TIMEOUT"),
        ((500, "boom"), "HTTP_500"),
        ((200, "<html>a proxy page</html>"), "INVALID_RESPONSE"),
        ((200, {"data": {"phoneIdentity": {"userId": "u1"}}}), "INVALID_RESPONSE"),
    ],
)
async def test_other_failures_are_worth_a_retry(
    client: ServiceClient, stand_in: StandIn, answer: tuple[int, Any], code: str
) -> None:
    stand_in.answers.append(answer)
    failed = _calls("failed")
    with pytest.raises(ServiceCallError) as caught:
        await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"))
    assert _calls("failed") == failed + 1
    assert not isinstance(caught.value, PermanentError | DependencyUnavailable)
    assert caught.value.code == code


async def test_a_restarting_subgraph_is_unavailable(
    client: ServiceClient, stand_in: StandIn
) -> None:
    stand_in.answers.append((503, "restarting"))
    unavailable = _calls("unavailable")
    with pytest.raises(ServiceUnavailable) as caught:
        await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"))
    assert _calls("unavailable") == unavailable + 1
    assert isinstance(caught.value, DependencyUnavailable)


async def test_an_unreachable_subgraph_is_unavailable(stand_in: StandIn) -> None:
    tokens = ServiceTokenProvider(f"{stand_in.url}/auth/token", "webhooks", "secret")
    away = f"http://127.0.0.1:{free_port()}/graphql"
    async with tokens, ServiceClient({Subgraph.USER: away}, tokens) as client:
        with pytest.raises(ServiceUnavailable):
            await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"))


async def test_a_slow_subgraph_is_unavailable_after_the_timeout(stand_in: StandIn) -> None:
    stand_in.reset()
    stand_in.delay = 2.0
    tokens = ServiceTokenProvider(f"{stand_in.url}/auth/token", "webhooks", "secret")
    url = f"{stand_in.url}/graphql"
    async with tokens, ServiceClient({Subgraph.USER: url}, tokens, timeout=0.3) as client:
        await tokens.token()
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"))
        assert time.monotonic() - started < 1.0


async def test_a_token_endpoint_that_is_down_makes_the_call_unavailable(
    stand_in: StandIn,
) -> None:
    stand_in.reset()
    tokens = ServiceTokenProvider(f"http://127.0.0.1:{free_port()}/auth/token", "webhooks", "s")
    url = f"{stand_in.url}/graphql"
    async with tokens, ServiceClient({Subgraph.USER: url}, tokens) as client:
        with pytest.raises(ServiceUnavailable):
            await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"))
        stand_in.token_status = 503
        tokens.token_url = f"{stand_in.url}/auth/token"
        with pytest.raises(ServiceUnavailable):
            await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"))
    assert stand_in.requests == []


async def test_refused_credentials_are_not_an_outage(
    client: ServiceClient, stand_in: StandIn
) -> None:
    stand_in.token_status = 401
    with pytest.raises(ServiceCallError) as caught:
        await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"))
    assert caught.value.code == "TOKEN_REFUSED"
    assert not isinstance(caught.value, DependencyUnavailable | PermanentError)
    assert stand_in.requests == []


async def test_a_token_the_subgraph_no_longer_accepts_is_replaced_once(
    client: ServiceClient, stand_in: StandIn
) -> None:
    await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"))
    stale = stand_in.requests[0]["headers"]["authorization"].removeprefix("Bearer ")
    stand_in.refused_tokens.add(stale)
    identity = await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"))
    assert identity.user_id == "u1"
    sent = [r["headers"]["authorization"] for r in stand_in.requests[1:]]
    assert sent[0] == f"Bearer {stale}"
    assert len(sent) == 2
    assert sent[1] != sent[0]
    # A subgraph that refuses every token: the second refusal is the caller's error.
    stand_in.refused_tokens.add(sent[1].removeprefix("Bearer "))
    stand_in.refused_tokens.add(f"token-{stand_in.issued + 1}")
    with pytest.raises(ServiceCallError) as caught:
        await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"))
    assert caught.value.code == "UNAUTHENTICATED"
    assert len(stand_in.requests) == 5


async def test_a_given_token_replaces_the_machine_account(
    client: ServiceClient, stand_in: StandIn
) -> None:
    issued = stand_in.issued
    await client.call(
        user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"), token="caller-token"
    )
    assert stand_in.requests[0]["headers"]["authorization"] == "Bearer caller-token"
    assert stand_in.issued == issued


async def test_a_subgraph_without_a_url_is_a_configuration_error(client: ServiceClient) -> None:
    with pytest.raises(LookupError, match="product"):
        await client.call(product_ops.client_allowance, product_ops.ClientIdVars(client_id="c"))


async def test_the_call_continues_the_callers_trace(stand_in: StandIn) -> None:
    stand_in.reset()
    configure_tracing("kit-test")  # what every service's create_app does at start
    url = f"{stand_in.url}/graphql"
    async with ServiceClient({Subgraph.USER: url}, None) as client:
        with trace.get_tracer(__name__).start_as_current_span("dialogue") as span:
            caller = format(span.get_span_context().trace_id, "032x")
            await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"))
    traceparent = stand_in.requests[-1]["headers"].get("traceparent")
    assert traceparent is not None, "no traceparent was sent"
    assert traceparent.split("-")[1] == caller


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (502, ServiceUnavailable, "UNAVAILABLE"),
        (503, ServiceUnavailable, "UNAVAILABLE"),
        (504, ServiceUnavailable, "UNAVAILABLE"),
        (500, ServiceCallError, "HTTP_500"),
        (429, ServiceCallError, "HTTP_429"),
        (401, ServiceCallError, "HTTP_401"),
        (404, ServiceCallError, "HTTP_404"),
    ],
)
async def test_each_status_maps_to_one_class(
    status: int, kind: type[ServiceCallError], code: str
) -> None:
    """The status table alone, through httpx's mock transport (no body to speak of)."""
    transport = httpx.MockTransport(lambda _: httpx.Response(status, text="nope"))
    async with httpx.AsyncClient(transport=transport) as http:
        client = ServiceClient({Subgraph.USER: "http://user.test/graphql"}, None, http=http)
        with pytest.raises(ServiceCallError) as caught:
            await client.call(user_ops.phone_identity, user_ops.PhoneHashVars(phone_hash="h"))
    assert type(caught.value) is kind
    assert caught.value.code == code
    assert error_for("Op", "user", 200, {"data": {"x": 1}}) is None
