"""One request, one trace, across real service processes: a code request at AuthApi asks
UserApi (httpx), LocalizationApi and WarpCache (gRPC), and every span they export over OTLP
(to a collector in this test) carries the same trace id and has its parent in that trace."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from nudges_devstack.infra import Postgres, TansuBroker
from nudges_devstack.platform import Platform
from nudges_emulators.serving import ServerThread

SERVICES = ("warpcache", "localization", "registry", "user", "auth")


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str


class Collector:
    """An OTLP/HTTP trace receiver keeping every span it is sent, in memory."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self._lock = threading.Lock()
        app = FastAPI()

        @app.post("/v1/traces")
        async def traces(request: Request) -> Response:
            export = ExportTraceServiceRequest.FromString(await request.body())
            with self._lock:
                for resource_spans in export.resource_spans:
                    attributes = {
                        a.key: a.value.string_value for a in resource_spans.resource.attributes
                    }
                    for scope_spans in resource_spans.scope_spans:
                        self.spans += [
                            Span(
                                attributes.get("service.name", "?"),
                                span.name,
                                span.trace_id.hex(),
                                span.span_id.hex(),
                                span.parent_span_id.hex(),
                            )
                            for span in scope_spans.spans
                        ]
            return Response(b"", media_type="application/x-protobuf")

        self.server = ServerThread(app).start()

    def trace(self, trace_id: str) -> list[Span]:
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.server.stop()


@pytest.fixture(scope="module")
def traced_platform(
    postgres: Postgres,
    platform_broker: TansuBroker,
    collector: Collector,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    exporting = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.server.url,
        # Spans leave each process within a fifth of a second rather than five.
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    running = Platform(
        postgres.url,
        platform_broker.bootstrap_servers,
        tmp_path_factory.mktemp("traced"),
        services=SERVICES,
        overrides={"*": exporting},
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.mark.slow
def test_a_code_request_is_one_trace_across_auth_user_localization_and_warpcache(
    traced_platform: Platform, collector: Collector
) -> None:
    answer = httpx.post(
        traced_platform.url("auth", "/auth/otp"),
        json={"phone": "+14155550187", "role": "client"},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text

    deadline = time.monotonic() + 30
    while True:
        # The request's own span (its parent, if any, is the test's client: httpx may be
        # instrumented in this process by an earlier test).
        roots = [s for s in collector.spans if s.name == "POST /auth/otp"]
        if roots:
            spans = collector.trace(roots[0].trace_id)
            services = {s.service for s in spans}
            if {"user", "localization", "warpcache"} <= {_short(n) for n in services}:
                break
        assert time.monotonic() < deadline, f"spans so far: {collector.spans}"
        time.sleep(0.2)

    # Every span but the request's own has its parent in the same trace: nothing is orphaned.
    ids = {s.span_id for s in spans}
    assert [s for s in spans if s.parent_id not in ids] == [roots[0]]
    # UserApi's server span is a child of AuthApi's HTTP client span.
    by_id = {s.span_id: s for s in spans}
    user_servers = [s for s in spans if _short(s.service) == "user" and s.name.startswith("POST")]
    assert user_servers, spans
    assert all(_short(by_id[s.parent_id].service) == "auth" for s in user_servers)


def _short(service_name: str) -> str:
    """``nudges-user`` and ``user`` alike: the service's short name."""
    return service_name.removeprefix("nudges-").removesuffix("api").removesuffix("-api")


def test_the_collector_decodes_what_the_exporter_sends() -> None:
    """The receiver of the test above reads real OTLP/HTTP exports (so that an empty trace
    above means no span, not an unread one)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    receiver = Collector()
    try:
        provider = TracerProvider(resource=Resource.create({"service.name": "probe"}))
        exporter = OTLPSpanExporter(endpoint=f"{receiver.server.url}/v1/traces")
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("t")
        with tracer.start_as_current_span("outer"), tracer.start_as_current_span("inner"):
            pass
        provider.shutdown()
        outer, inner = sorted(receiver.spans, key=lambda s: s.name, reverse=True)
        assert (outer.service, outer.name, outer.parent_id) == ("probe", "outer", "")
        assert inner.parent_id == outer.span_id
        assert inner.trace_id == outer.trace_id
    finally:
        receiver.server.stop()
