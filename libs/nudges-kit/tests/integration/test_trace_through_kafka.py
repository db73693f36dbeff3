"""A trace crosses Kafka and goes on over HTTP: an event written to the outbox inside a span
is handled, on the real broker, inside a span of the same trace, and the handler's httpx call
carries that trace to the server it calls."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI, Request
from opentelemetry import trace

from nudges_devstack.testing import Counted, eventually, fresh_event_type, running_consumer
from nudges_emulators.serving import serve_in_thread
from nudges_kit.consumer import HandlerContext
from nudges_kit.events import Envelope, EventRegistry
from nudges_kit.outbox import OutboxRelay, add_event
from nudges_kit.settings import NudgesSettings
from nudges_kit.telemetry import configure_tracing


def _trace_id() -> str:
    return format(trace.get_current_span().get_span_context().trace_id, "032x")


async def test_the_writers_trace_reaches_the_handler_and_its_http_calls(
    pool: asyncpg.Pool, settings: NudgesSettings
) -> None:
    configure_tracing("kit-test")
    callee = FastAPI()
    received: list[str] = []

    @callee.post("/send")
    async def send(request: Request) -> dict[str, str]:
        received.append(request.headers.get("traceparent", ""))
        return {"status": "queued"}

    registry = EventRegistry()
    counted = fresh_event_type(registry)
    with trace.get_tracer(__name__).start_as_current_span("announcement confirmed"):
        writer = _trace_id()
        async with pool.acquire() as conn, conn.transaction():
            await add_event(conn, counted, "k", Counted(seq=1))

    handled: list[str] = []
    stop = asyncio.Event()
    relay = OutboxRelay(pool, settings, idle_interval=0.05)
    relay_task = asyncio.create_task(relay.run(stop))
    try:
        with serve_in_thread(callee) as server:

            async def handle(_envelope: Envelope, _data: Any, _ctx: HandlerContext) -> None:
                handled.append(_trace_id())
                async with httpx.AsyncClient() as client:
                    await client.post(f"{server.url}/send")

            async with running_consumer(settings, pool, registry, {counted: handle}):
                await eventually(lambda: bool(received))
    finally:
        stop.set()
        await relay_task
    assert handled == [writer]
    assert received[0].split("-")[1] == writer
