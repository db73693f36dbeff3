"""The workers' process: consumer groups, periodic tasks and the outbox relay, with health
and metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from nudges_consumers.bootstrap import build_deps
from nudges_consumers.entrypoints.workers import build_workers
from nudges_consumers.settings import ConsumersSettings
from nudges_kit.http import add_readiness_check, background, create_app, database_resources


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: ConsumersSettings = app.state.settings
    async with database_resources(app):
        deps = build_deps(settings, app.state.pool)
        workers = build_workers(deps)
        consumers = workers.consumers
        app.state.consumers = consumers
        stop = asyncio.Event()

        async def assigned() -> None:
            if not all(c.assigned.is_set() for c in consumers):
                raise RuntimeError("waiting for partition assignments")

        add_readiness_check(app, "consumers", assigned)
        try:
            tasks = [*(c.run(stop) for c in consumers), *(loop(stop) for loop in workers.loops)]
            async with background(stop, *tasks):
                yield
        finally:
            await deps.close()


def build_app(settings: ConsumersSettings | None = None) -> FastAPI:
    """The Consumers application."""
    return create_app(settings or ConsumersSettings(), title="Nudges Consumers", lifespan=lifespan)
