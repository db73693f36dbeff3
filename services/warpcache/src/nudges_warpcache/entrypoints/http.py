"""The WarpCache HTTP app: ``/healthz``, ``/readyz`` (the gRPC server answers SERVING, and
with the redis engine Redis answers PING) and ``/metrics`` (the cache's hits, misses,
evictions, expirations, entries and bytes)."""

from __future__ import annotations

from fastapi import FastAPI

from nudges_kit.http import add_readiness_check, create_app
from nudges_warpcache.adapters import metrics  # noqa: F401  (registers the cache metrics)
from nudges_warpcache.domain.store import CacheStore
from nudges_warpcache.entrypoints.grpc import GrpcServer
from nudges_warpcache.settings import WarpcacheSettings


def build_app(
    settings: WarpcacheSettings | None = None,
    grpc_server: GrpcServer | None = None,
    store: CacheStore | None = None,
) -> FastAPI:
    """The WarpCache HTTP application; ``/readyz`` checks ``grpc_server`` when given, and
    the storage of an engine outside this process (``redis``)."""
    app = create_app(settings or WarpcacheSettings(), title="Nudges WarpCache")
    if grpc_server is not None:
        add_readiness_check(app, "grpc", grpc_server.check_serving)
    if store is not None and store.engine != "memory":
        add_readiness_check(app, store.engine, store.check)
    return app
