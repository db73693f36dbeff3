"""Access logs: one line per HTTP request with its method, route template, status, duration and
trace id. Never the raw path (it holds ids), the query string or a body (they can hold phone
numbers and tokens)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable

from opentelemetry import trace
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nudges_kit.logging import get_logger
from nudges_kit.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS

log = get_logger("nudges.access")
#: The standard logger under ``log``: a line its level drops is not built at all (structlog's
#: processors cost about 30 µs a request, measured on the gateway under load).
_level_of = logging.getLogger("nudges.access")

#: Requests made by machines every few seconds (probes, scrapes): DEBUG lines.
ROUTINE_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
#: The route of a request no route matched: its path is not logged (it could be anything).
UNMATCHED = "<unmatched>"
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-(?P<trace>[0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def log_request(
    method: str,
    route: str,
    status: int,
    started: float,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Write the access line of a request that began at ``time.perf_counter()`` ``started``,
    and count it in ``nudges_http_requests_total`` and ``nudges_http_request_seconds``.
    Its trace id is the current span's, else the caller's ``traceparent`` (in ``headers``);
    routine probes and ``304 Not Modified`` polls are DEBUG lines."""
    seconds = time.perf_counter() - started
    if route not in ROUTINE_ROUTES:
        HTTP_REQUESTS.labels(method, route, str(status)).inc()
        HTTP_REQUEST_SECONDS.labels(route).observe(seconds)
    routine = route in ROUTINE_ROUTES or status == 304
    level = logging.DEBUG if routine else logging.INFO
    if not _level_of.isEnabledFor(level):
        return
    fields: dict[str, object] = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
    }
    if not trace.get_current_span().get_span_context().is_valid:
        for name, value in headers:
            if name == b"traceparent":
                if match := TRACEPARENT.match(value.decode("latin-1").strip()):
                    fields["trace_id"] = match["trace"]
                break
    log.log(level, "request", **fields)


def route_of(scope: Scope) -> str:
    """The template of the route that answered (``/plans/{plan_id}``), never the raw path."""
    route = scope.get("route")
    if isinstance(route, Mount):
        # An app mounted whole (no routes of its own): the mount's path, already in root_path.
        return str(scope.get("root_path") or route.path or UNMATCHED)
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    return f"{scope.get('root_path', '')}{path}" if path else UNMATCHED


class AccessLog:
    """ASGI middleware writing :func:`log_request`'s line for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log_request(scope["method"], route_of(scope), status, started, scope["headers"])
