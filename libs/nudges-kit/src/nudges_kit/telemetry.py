"""OpenTelemetry traces (HTTP, gRPC, Kafka) and the W3C traceparent in Kafka headers: a
trace crosses every service call, httpx (every HTTP client of the services), gRPC (when spans
are exported) and Kafka (the outbox relay and the consumer loop)."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

KafkaHeaders = Sequence[tuple[str, bytes]]

_configured = False
_exporting = False


def configure_tracing(service: str, otlp_endpoint: str = "") -> None:
    """Install a tracer provider; spans are exported over OTLP/HTTP when an endpoint is set.
    Every httpx request made afterwards sends the current trace context (``traceparent``)."""
    global _configured, _exporting
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        _exporting = True
    trace.set_tracer_provider(provider)
    instrument_httpx()
    _configured = True


def instrument_httpx() -> None:
    """A client span around every httpx request, and its ``traceparent`` in the request: the
    service called (a subgraph, UserApi, the registry) continues the caller's trace."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()


def exporting() -> bool:
    """True when spans are exported: per-call instrumentation (gRPC interceptors) is worth its
    cost only then."""
    return _exporting


def tracer(name: str) -> trace.Tracer:
    """The tracer of a module."""
    return trace.get_tracer(name)


def current_traceparent() -> dict[str, str]:
    """The current trace context as W3C headers (empty outside a span)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def kafka_headers(carrier: dict[str, str]) -> list[tuple[str, bytes]]:
    """Trace headers ready for an aiokafka record."""
    return [(k, v.encode()) for k, v in carrier.items()]


def context_from_kafka(headers: KafkaHeaders | None) -> context.Context:
    """The trace context carried by a Kafka record's headers."""
    carrier = {k: v.decode(errors="replace") for k, v in (headers or ()) if v is not None}
    return propagate.extract(carrier)
