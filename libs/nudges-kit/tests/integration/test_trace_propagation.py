"""A service's HTTP call carries its trace to the service called (W3C ``traceparent``), so that
one story is one trace across services, and the callee's access line names that trace."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import Request
from opentelemetry import trace

from nudges_devstack.http_edge import served
from nudges_devstack.infra import free_port
from nudges_devstack.testing import access_lines
from nudges_kit.http import create_app
from nudges_kit.settings import NudgesSettings


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    port = free_port()
    settings = NudgesSettings(environment="test", http_port=port, log_json=True)
    app = create_app(settings, title="trace propagation test")

    @app.get("/seen")
    async def seen(request: Request) -> dict[str, str | None]:
        return {"traceparent": request.headers.get("traceparent")}

    with served(app, settings) as base:
        yield base


def _trace_of(traceparent: str | None) -> str:
    assert traceparent is not None, "no traceparent was sent"
    version, trace_id, parent_id, flags = traceparent.split("-")
    assert (version, len(parent_id)) == ("00", 16)
    assert int(flags, 16) & 1  # sampled
    return trace_id


async def test_an_async_httpx_call_continues_the_callers_trace(url: str) -> None:
    with trace.get_tracer(__name__).start_as_current_span("fan-out") as span:
        caller = format(span.get_span_context().trace_id, "032x")
        with access_lines() as lines:
            async with httpx.AsyncClient() as client:
                answer = (await client.get(f"{url}/seen")).json()
            line = lines.wait_for(lambda x: x.get("route") == "/seen")
    assert _trace_of(answer["traceparent"]) == caller
    assert line["trace_id"] == caller


def test_a_sync_httpx_call_outside_any_span_starts_a_trace_the_callee_joins(url: str) -> None:
    with access_lines() as lines:
        answer = httpx.get(f"{url}/seen").json()
        line = lines.wait_for(lambda x: x.get("route") == "/seen")
    assert line["trace_id"] == _trace_of(answer["traceparent"])
