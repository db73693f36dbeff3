"""OpenTelemetry traces (HTTP, gRPC, Kafka) and the W3C traceparent in Kafka headers: a
trace crosses every service call, httpx (every HTTP client of the services), gRPC (when spans
are exported) and Kafka (the outbox relay and the consumer loop)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.propagators.textmap import (
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)
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
        if not isinstance(propagate.get_global_textmap(), KeepsGivenContext):
            propagate.set_global_textmap(KeepsGivenContext(propagate.get_global_textmap()))
        instrumentor.instrument()


class KeepsGivenContext(TextMapPropagator):
    """The propagator ``inner``, except that a carrier already holding a ``traceparent`` (a
    request its caller gave a trace context on purpose: a forwarded one) keeps it."""

    def __init__(self, inner: TextMapPropagator) -> None:
        self.inner = inner

    def extract(
        self,
        carrier: Any,
        context: context.Context | None = None,
        getter: Getter[Any] = default_getter,
    ) -> context.Context:
        return self.inner.extract(carrier, context, getter)

    def inject(
        self,
        carrier: Any,
        context: context.Context | None = None,
        setter: Setter[Any] = default_setter,
    ) -> None:
        if isinstance(carrier, Mapping) and "traceparent" in carrier:
            return
        self.inner.inject(carrier, context, setter)

    @property
    def fields(self) -> set[str]:
        return self.inner.fields


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
