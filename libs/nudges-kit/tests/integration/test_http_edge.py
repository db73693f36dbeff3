"""The kit's HTTP shell on a real uvicorn server, started as every service starts it: the TCP
peer is the client whatever ``X-Forwarded-For`` says, and bodies past the limit are answered
413 before they are read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import Request

from nudges_devstack.http_edge import served, stream_chunked
from nudges_devstack.infra import free_port
from nudges_kit.http import create_app
from nudges_kit.settings import NudgesSettings

LIMIT = 64 * 1024


@dataclass
class Received:
    """What the app's upload route got to read."""

    calls: int = 0
    bytes: int = 0
    clients: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def kit_app() -> Iterator[tuple[str, int, Received]]:
    port = free_port()
    settings = NudgesSettings(
        environment="test", http_port=port, max_request_body_bytes=LIMIT, log_json=True
    )
    app = create_app(settings, title="edge test")
    received = Received()

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        received.calls += 1
        async for chunk in request.stream():
            received.bytes += len(chunk)
        return {"bytes": received.bytes}

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, str]:
        host = request.client.host if request.client else "unknown"
        received.clients.append(host)
        return {"client": host}

    with served(app, settings) as url:
        yield url, port, received


def test_forwarded_for_from_localhost_does_not_change_the_client(
    kit_app: tuple[str, int, Received],
) -> None:
    url, _, _ = kit_app
    answer = httpx.get(f"{url}/whoami", headers={"X-Forwarded-For": "203.0.113.99"})
    assert answer.json() == {"client": "127.0.0.1"}


def test_a_declared_body_over_the_limit_is_refused_unread(
    kit_app: tuple[str, int, Received],
) -> None:
    url, _, received = kit_app
    calls = received.calls
    answer = httpx.post(f"{url}/upload", content=b"x" * (LIMIT + 1))
    assert answer.status_code == 413
    assert answer.json() == {"detail": f"the request body exceeds {LIMIT} bytes"}
    assert answer.headers["connection"] == "close"
    assert received.calls == calls  # the route never ran


def test_a_streamed_body_stops_being_read_at_the_limit(
    kit_app: tuple[str, int, Received],
) -> None:
    _, port, received = kit_app
    before = received.bytes
    total = 30 * 1024 * 1024
    upload = stream_chunked(port, "/upload", total, chunk_bytes=16 * 1024)
    assert upload.status == 413, upload.response[:200]
    assert not upload.finished
    assert upload.sent < total
    # The route saw at most the limit: the chunk that crossed it was never handed over.
    assert received.bytes - before <= LIMIT


def test_a_body_within_the_limit_is_read_whole(kit_app: tuple[str, int, Received]) -> None:
    url, port, received = kit_app
    before = received.bytes
    answer = httpx.post(f"{url}/upload", content=b"x" * LIMIT)
    assert answer.status_code == 200
    assert received.bytes - before == LIMIT
    streamed = stream_chunked(port, "/upload", 32 * 1024, chunk_bytes=8 * 1024)
    assert streamed.status == 200
    assert streamed.finished
