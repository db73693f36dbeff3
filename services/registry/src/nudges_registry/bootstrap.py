"""Wires GraphMonitor once: the use cases over the database pool, the SDL fetch and the
allow-list of subgraph URLs."""

from __future__ import annotations

from functools import partial

import asyncpg

from nudges_registry.adapters.subgraph_sdl import fetch_sdl
from nudges_registry.domain.subgraph_urls import SubgraphUrls
from nudges_registry.service_layer.registry import Registry
from nudges_registry.settings import RegistrySettings


def bootstrap(pool: asyncpg.Pool, settings: RegistrySettings) -> Registry:
    """The registry of a running GraphMonitor, as its settings describe it."""
    return Registry(
        pool,
        partial(fetch_sdl, request_timeout=settings.sdl_fetch_timeout_seconds),
        SubgraphUrls(settings.registry_allowed_subgraph_urls),
    )
