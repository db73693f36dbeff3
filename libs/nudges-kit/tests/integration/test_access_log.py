"""Access logs of the kit's HTTP app on a real uvicorn server: one line per request with the
route template, status, duration and trace id, and nothing of the path's ids, the query
string or the body."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from nudges_devstack.http_edge import served
from nudges_devstack.infra import free_port
from nudges_devstack.testing import access_lines
from nudges_kit.http import create_app
from nudges_kit.settings import NudgesSettings

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
PHONE = "+14155550123"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    port = free_port()
    settings = NudgesSettings(environment="test", http_port=port, log_json=True)
    app = create_app(settings, title="access log test")

    @app.get("/plans/{plan_id}")
    async def plan(plan_id: str) -> dict[str, str]:
        return {"plan": plan_id}

    @app.post("/subscribers")
    async def subscribe() -> dict[str, str]:
        return {"status": "ok"}

    with served(app, settings) as base:
        yield base


def test_one_line_per_request_with_the_route_template_and_trace_id(url: str) -> None:
    with access_lines() as lines:
        answer = httpx.get(
            f"{url}/plans/plan-8f3a?phone={PHONE}&token=s3cret",
            headers={"traceparent": TRACEPARENT},
        )
        assert answer.status_code == 200
        line = lines.wait_for(lambda x: x.get("route") == "/plans/{plan_id}")
    assert line["event"] == "request"
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    # The server span is a child of the caller's: the same trace.
    assert line["trace_id"] == TRACE_ID
    assert len(lines.lines) == 1
    text = json.dumps(line)
    for never in ("plan-8f3a", "4155550123", "s3cret", "phone", "?"):
        assert never not in text


def test_no_body_and_no_unmatched_path_reaches_the_line(url: str) -> None:
    with access_lines() as lines:
        httpx.post(f"{url}/subscribers", json={"phone": PHONE, "password": "hunter2"})
        httpx.get(f"{url}/people/{PHONE}/delete")
        posted = lines.wait_for(lambda x: x.get("route") == "/subscribers")
        missing = lines.wait_for(lambda x: x.get("status") == 404)
    assert posted["method"] == "POST"
    assert posted["status"] == 200
    assert missing["route"] == "<unmatched>"
    text = json.dumps(lines.lines)
    for never in ("4155550123", "hunter2", "people", "delete"):
        assert never not in text


def test_health_checks_are_not_info_lines(url: str) -> None:
    with access_lines() as lines:
        assert httpx.get(f"{url}/healthz").status_code == 200
        httpx.get(f"{url}/plans/p1")
        lines.wait_for(lambda x: x.get("route") == "/plans/{plan_id}")
    assert [x["route"] for x in lines.lines] == ["/plans/{plan_id}"]


def test_requests_are_counted_by_route_template_and_status(url: str) -> None:
    httpx.get(f"{url}/plans/plan-42")
    metrics = httpx.get(f"{url}/metrics").text
    counted = 'nudges_http_requests_total{method="GET",route="/plans/{plan_id}",status="200"}'
    assert counted in metrics
    assert 'nudges_http_request_seconds_count{route="/plans/{plan_id}"}' in metrics
    assert "plan-42" not in metrics
