"""Credentials reach the subgraphs as a JWT: the TokenId cookie (or an opaque bearer id) is
resolved through a real WarpCache; a bearer JWT passes as it is; a JWT that does not verify
(forged, expired, for another audience) is a 401; WarpCache down is a 503. The
caller's trace context reaches the subgraphs, through the gateway's span when traces are
exported."""

from __future__ import annotations

from pathlib import Path

import httpx
from gateway_support import (
    ISSUER,
    Recorder,
    RunningGateway,
    signed_jwt,
    start_gateway,
    store_session,
)
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from nudges_devstack.infra import free_port
from nudges_devstack.testing import TokenIssuer, access_lines
from nudges_kit.telemetry import configure_tracing

#: A session id of the shape AuthApi issues (an opaque URL-safe token).
SESSION_ID = "session-id-of-a-signed-in-user-1"


def authorization_seen(recorders: dict[str, Recorder]) -> list[str | None]:
    return [r["headers"].get("authorization") for r in recorders["reviews"].requests]


def test_the_token_id_cookie_is_resolved_to_its_jwt(
    gateway: RunningGateway, warpcache_server: str, reset: dict[str, Recorder]
) -> None:
    jwt = signed_jwt("client-1")
    store_session(warpcache_server, SESSION_ID, jwt)
    gateway.query("{ reviews { stars } }", cookies={"TokenId": SESSION_ID})
    gateway.query("{ reviews { stars } }", headers={"Authorization": f"Bearer {SESSION_ID}"})
    assert authorization_seen(reset) == [f"Bearer {jwt}", f"Bearer {jwt}"]


def test_a_bearer_jwt_is_forwarded_as_is(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    jwt = signed_jwt("admin-1")
    gateway.query("{ reviews { stars } }", headers={"Authorization": f"Bearer {jwt}"})
    assert authorization_seen(reset) == [f"Bearer {jwt}"]


def test_an_invalid_or_expired_jwt_is_unauthenticated(
    gateway: RunningGateway, warpcache_server: str, reset: dict[str, Recorder]
) -> None:
    forged = TokenIssuer(ISSUER.issuer, ISSUER.audience).token("client-1")
    expired = signed_jwt("client-1", ttl=-60)
    other_audience = TokenIssuer(ISSUER.issuer, "elsewhere").token("client-1")
    store_session(warpcache_server, "session-of-an-expired-token", expired)
    for credentials in (
        {"headers": {"Authorization": f"Bearer {forged}"}},
        {"headers": {"Authorization": f"Bearer {expired}"}},
        {"headers": {"Authorization": f"Bearer {other_audience}"}},
        {"cookies": {"TokenId": "session-of-an-expired-token"}},
    ):
        response = gateway.post("{ reviews { stars } }", **credentials)  # type: ignore[arg-type]
        assert response.status_code == 401, credentials
        assert response.json() == {
            "errors": [
                {
                    "message": "the token is invalid or has expired; sign in again",
                    "extensions": {"code": "UNAUTHENTICATED"},
                }
            ]
        }
    assert authorization_seen(reset) == []
    # Without a token the caller is anonymous, and a valid token still passes.
    assert gateway.post("{ reviews { stars } }").status_code == 200
    jwt = signed_jwt("client-1")
    response = gateway.post("{ reviews { stars } }", headers={"Authorization": f"Bearer {jwt}"})
    assert response.status_code == 200
    assert authorization_seen(reset) == [None, f"Bearer {jwt}"]


def test_an_unknown_session_is_anonymous(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    body = gateway.query("{ reviews { stars } }", cookies={"TokenId": "no-such-session"})
    assert len(body["data"]["reviews"]) == 3  # type: ignore[index]
    assert authorization_seen(reset) == [None]


def test_warpcache_down_is_unavailable_not_an_error(supergraph_sdl: str, tmp_path: Path) -> None:
    path = tmp_path / "supergraph.graphql"
    path.write_text(supergraph_sdl)
    gateway = start_gateway(path, warpcache_url=f"127.0.0.1:{free_port()}")
    try:
        response = gateway.post("{ reviews { stars } }", cookies={"TokenId": SESSION_ID})
        assert response.status_code == 503
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        # no credentials: WarpCache is not needed
        assert gateway.post("{ reviews { stars } }").status_code == 200
    finally:
        gateway.served.stop()


def test_the_trace_context_is_forwarded(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    gateway.query(
        "{ reviews { stars } }", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    )
    traceparent = reset["reviews"].requests[0]["headers"]["traceparent"]
    assert traceparent.split("-")[1] == trace_id


def test_a_post_that_is_not_json_is_refused(gateway: RunningGateway) -> None:
    # what a form on another site could make a browser send with the TokenId cookie
    response = httpx.post(
        gateway.url,
        content='{"query": "mutation { setPrice(upc: \\"p1\\", price: 1) { price } }"}',
        headers={"content-type": "text/plain"},
        cookies={"TokenId": SESSION_ID},
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_with_traces_exported_the_subgraphs_are_asked_within_the_gateway_span(
    supergraph_sdl: str, tmp_path: Path, warpcache_server: str, reset: dict[str, Recorder]
) -> None:
    # The process's tracer provider is installed once: here without an exporter (nothing is
    # sent to the endpoint below), the spans read from it in memory.
    configure_tracing("gateway")
    path = tmp_path / "supergraph.graphql"
    path.write_text(supergraph_sdl)
    gateway = start_gateway(
        path, warpcache_url=warpcache_server, otel_exporter_otlp_endpoint="http://127.0.0.1:9"
    )
    exported = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.add_span_processor(SimpleSpanProcessor(exported))
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    try:
        gateway.query(
            "{ reviews { stars } }", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
        )
    finally:
        gateway.served.stop()
        exported.shutdown()

    spans = [s for s in exported.get_finished_spans() if s.name == "POST /graphql"]
    assert len(spans) == 1
    span = spans[0]
    assert span.context is not None
    assert span.parent is not None
    assert f"{span.context.trace_id:032x}" == trace_id
    assert f"{span.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 200
    _, seen_trace, seen_parent, _ = (
        reset["reviews"].requests[0]["headers"]["traceparent"].split("-")
    )
    assert (seen_trace, seen_parent) == (trace_id, f"{span.context.span_id:016x}")


def test_the_graphql_path_writes_one_access_line(gateway: RunningGateway) -> None:
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    with access_lines() as lines:
        gateway.query(
            "{ reviews { stars } }", headers={"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"}
        )
        line = lines.wait_for(lambda x: x.get("route") == "/graphql")
    assert line["method"] == "POST"
    assert line["status"] == 200
    assert line["trace_id"] == trace_id
    assert line["duration_ms"] >= 0
    assert "reviews" not in str(lines.lines)  # never the query
    assert len(lines.lines) == 1
