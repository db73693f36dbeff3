"""The HTTP shell every service shares: health, readiness, metrics, traces and logs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from nudges_kit.access_log import AccessLog
from nudges_kit.body_limit import BodyLimit
from nudges_kit.logging import configure_logging, get_logger
from nudges_kit.settings import NudgesSettings
from nudges_kit.telemetry import configure_tracing

ReadinessCheck = Callable[[], Awaitable[Any]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

log = get_logger(__name__)


def add_readiness_check(app: FastAPI, name: str, check: ReadinessCheck) -> None:
    """Make ``/readyz`` depend on ``check`` (it raises when the dependency is not ready)."""
    app.state.readiness[name] = check


def create_app(
    settings: NudgesSettings,
    *,
    title: str,
    lifespan: Lifespan | None = None,
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app with ``/healthz``, ``/readyz``, ``/metrics``, tracing, logs and an access
    line per request (:mod:`nudges_kit.access_log`), whose request bodies are limited to
    ``settings.max_request_body_bytes`` (413 beyond)."""
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    app = FastAPI(title=title, lifespan=lifespan, **fastapi_kwargs)
    app.state.settings = settings
    app.state.readiness = {}
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_body_bytes)
    # Outermost of the app's own middleware: it sees the status of every answer, 413s too.
    app.add_middleware(AccessLog)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(response: Response) -> dict[str, Any]:
        checks: dict[str, str] = {}
        for name, check in app.state.readiness.items():
            try:
                await asyncio.wait_for(check(), timeout=2.0)
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"failing: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        response.status_code = 200 if ready else 503
        return {"status": "ready" if ready else "not ready", "checks": checks}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # One server span per request; the ASGI send/receive spans under it would cost more than
    # the handlers of most requests and say little.
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"]
    )
    return app


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's event loop where it is installed (with uvicorn's ``standard`` extra, on
    Linux and macOS), else asyncio's: what every service process runs on. uvicorn picks the
    same for the apps :func:`serve` runs."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def server_options(settings: NudgesSettings) -> dict[str, Any]:
    """uvicorn's options for a service: its host and port, no access log of uvicorn's (the
    app writes its own, without query strings: :mod:`nudges_kit.access_log`), and no proxy
    headers, so that the client of a request is its TCP peer (uvicorn would otherwise believe
    ``X-Forwarded-For`` from 127.0.0.1; services read forwarded addresses through
    :mod:`nudges_kit.client_address`, from the hops their topology trusts)."""
    return {
        "host": settings.http_host,
        "port": settings.http_port,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
        "forwarded_allow_ips": "",
        "timeout_graceful_shutdown": 10,
    }


class _ServiceEnd:
    """What ends the process :func:`serve` runs from inside it: a background task that
    stopped on a configuration error (credentials the broker refuses)."""

    server: uvicorn.Server | None = None
    error: BaseException | None = None


_end = _ServiceEnd()


def end_service_on_configuration_error(task: asyncio.Future[Any]) -> None:
    """A done-callback for background tasks: when ``task`` failed with
    :class:`~nudges_kit.kafka.KafkaCredentialsRefused`, the service served by :func:`serve`
    shuts down and exits with that one line, rather than running without its relay or
    consumers."""
    from nudges_kit.kafka import KafkaCredentialsRefused

    if task.cancelled():
        return
    error = task.exception()
    if not isinstance(error, KafkaCredentialsRefused):
        return
    log.error("stopping: a configuration error", error=str(error))
    _end.error = error
    if _end.server is not None:
        _end.server.should_exit = True


def serve(app: Any, settings: NudgesSettings) -> None:
    """Serve the ASGI ``app`` on the configured host and port until interrupted; exits with
    status 1 and one line naming the setting when a background task met a configuration
    error, and with status 3 when the app did not start."""
    server = uvicorn.Server(uvicorn.Config(app, **server_options(settings)))
    _end.server = server
    try:
        server.run()
    finally:
        _end.server = None
    if _end.error is not None:
        raise SystemExit(f"{settings.service_name}: {_end.error}")
    if not server.started:
        raise SystemExit(3)


@asynccontextmanager
async def background(stop: asyncio.Event, *tasks: Awaitable[None]) -> AsyncIterator[None]:
    """Run ``tasks`` while the app lives; on exit set ``stop`` and wait for them. A task
    that fails on a configuration error ends the service (see :func:`serve`)."""
    running = [asyncio.ensure_future(t) for t in tasks]
    for task in running:
        task.add_done_callback(end_service_on_configuration_error)
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*running, return_exceptions=True)


@asynccontextmanager
async def database_resources(app: FastAPI, *, outbox: bool = True) -> AsyncIterator[None]:
    """Open the service's pool (``app.state.pool``), check it in ``/readyz`` and, when the
    service publishes events, run its outbox relay for as long as the app lives."""
    from nudges_kit.db import create_pool, ping
    from nudges_kit.outbox import OutboxRelay

    settings: NudgesSettings = app.state.settings
    pool = await create_pool(settings.database_url(), max_size=settings.db_pool_max_size)
    app.state.pool = pool
    add_readiness_check(app, "postgres", lambda: ping(pool))
    stop = asyncio.Event()
    tasks = [OutboxRelay(pool, settings).run(stop)] if outbox else []
    try:
        async with background(stop, *tasks):
            yield
    finally:
        await pool.close()
