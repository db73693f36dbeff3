"""Prometheus metrics shared by every service, and the counting of GraphQL operations by
service and operation name (:mod:`nudges_kit.graphql_metrics` reads them off a request)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter(
    "nudges_outbox_published_total", "Outbox events published to Kafka", ["topic"]
)
OUTBOX_PENDING = Gauge("nudges_outbox_pending", "Outbox events not yet published")
OUTBOX_PUBLISH_FAILURES = Counter(
    "nudges_outbox_publish_failures_total", "Failed outbox publish attempts"
)
EVENTS_HANDLED = Counter(
    "nudges_events_handled_total", "Events handled by consumers", ["group", "topic", "outcome"]
)
EVENT_HANDLING_SECONDS = Histogram(
    "nudges_event_handling_seconds", "Time to handle one event", ["group", "topic"]
)
CONSUMER_LAG = Gauge(
    "nudges_consumer_lag",
    "Messages between the committed offset and the end",
    ["group", "topic", "partition"],
)
DEAD_LETTERS = Counter(
    "nudges_dead_letters_total", "Events sent to a dead-letter topic", ["group", "topic"]
)
HTTP_REQUESTS = Counter(
    "nudges_http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "nudges_http_request_seconds", "Time to answer an HTTP request", ["route"]
)
PROVIDER_CALLS = Counter(
    "nudges_provider_calls_total",
    "Calls to Stripe and Twilio, by provider, operation and outcome (ok, unavailable, 4xx, 5xx)",
    ["provider", "operation", "outcome"],
)

# --- GraphQL operations -------------------------------------------------------------------
# One family for every subgraph (through :func:`nudges_kit.graphql.mount_graphql`) and the
# gateway, so that one panel compares them. The ``operation`` label is bounded: names come
# only from a document that parsed (never from the request's ``operationName`` alone, never
# from variables), and past the first :data:`OPERATION_NAMES_LIMIT` names of a service every
# new one is counted as ``other``.

GRAPHQL_OPERATIONS = Counter(
    "nudges_graphql_operations_total",
    "GraphQL operations answered, by service, operation name, kind and outcome (ok, error)",
    ["service", "operation", "kind", "outcome"],
)
GRAPHQL_OPERATION_ERRORS = Counter(
    "nudges_graphql_operation_errors_total",
    "Errors in GraphQL answers, by service, operation name and extensions.code",
    ["service", "operation", "code"],
)
GRAPHQL_OPERATION_SECONDS = Histogram(
    "nudges_graphql_operation_seconds",
    "Time to answer a GraphQL query or mutation, by service, operation name and kind",
    ["service", "operation", "kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

#: Distinct operation names one service counts under their own name; later ones are ``other``.
OPERATION_NAMES_LIMIT = 200
#: Distinct ``extensions.code`` values one service counts; later ones are ``other``.
ERROR_CODES_LIMIT = 40
#: The label value of whatever is past a limit.
OTHER = "other"


class BoundedLabel:
    """The values one label may take: the first ``limit`` distinct values seen, then
    :data:`OTHER` for every value not among them. Thread-safe."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        with self._lock:
            if value in self._seen:
                return value
            if len(self._seen) >= self.limit:
                return OTHER
            self._seen.add(value)
            return value


_operation_names: dict[str, BoundedLabel] = {}
_error_codes: dict[str, BoundedLabel] = {}


def _bounded(labels: dict[str, BoundedLabel], service: str, limit: int) -> BoundedLabel:
    bounded = labels.get(service)
    if bounded is None:
        bounded = labels.setdefault(service, BoundedLabel(limit))
    return bounded


def record_graphql_operation(
    service: str, operation: str, kind: str, codes: Iterable[str], seconds: float | None
) -> None:
    """Count one answered GraphQL operation of ``service``: its outcome (``error`` when the
    answer carries any error, ``codes`` holding each error's ``extensions.code``), each
    distinct code once, and for a query or mutation the ``seconds`` it took. ``operation`` is
    a name from a parsed document; it is bounded here per service."""
    name = _bounded(_operation_names, service, OPERATION_NAMES_LIMIT)(operation)
    distinct = set(codes)
    GRAPHQL_OPERATIONS.labels(service, name, kind, "error" if distinct else "ok").inc()
    bounded_codes = _bounded(_error_codes, service, ERROR_CODES_LIMIT)
    for code in distinct:
        GRAPHQL_OPERATION_ERRORS.labels(service, name, bounded_codes(code)).inc()
    if seconds is not None and kind != "subscription":
        GRAPHQL_OPERATION_SECONDS.labels(service, name, kind).observe(seconds)
