"""The supergraph being served, swapped atomically on reload: a request takes the state once
when it starts and finishes on it, whatever is loaded meanwhile."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge

from nudges_gateway.domain.prepare import PlanCache
from nudges_gateway.domain.supergraph import InvalidSupergraph, Supergraph
from nudges_kit.logging import get_logger

log = get_logger(__name__)

RELOADS = Counter("gateway_supergraph_loads_total", "Supergraph loads, by outcome", ["outcome"])
LOADED = Gauge("gateway_supergraph_loaded", "1 once a supergraph is served")


@dataclass
class SchemaState:
    """One supergraph with its plan cache."""

    supergraph: Supergraph
    version: str
    plans: PlanCache = field(default_factory=PlanCache)


class SchemaHolder:
    """Holds the current :class:`SchemaState`; loads refuse a bad supergraph, keeping the old."""

    def __init__(
        self,
        plan_cache_size: int = 1000,
        on_load: Callable[[SchemaState], None] | None = None,
    ) -> None:
        self.plan_cache_size = plan_cache_size
        self.on_load = on_load
        self.current: SchemaState | None = None

    def load(self, sdl: str, version: str | None = None) -> bool:
        """Serve ``sdl`` from now on; False when it is the one already served. Raises
        :class:`InvalidSupergraph` (and keeps the current one) when it cannot be served."""
        version = version or hashlib.sha256(sdl.encode()).hexdigest()[:16]
        if self.current is not None and self.current.supergraph.sdl == sdl:
            return False
        try:
            supergraph = Supergraph(sdl)
        except InvalidSupergraph as exc:
            RELOADS.labels("refused").inc()
            log.error(
                "supergraph refused, keeping the current one", version=version, error=str(exc)
            )
            raise
        self.current = SchemaState(supergraph, version, PlanCache(self.plan_cache_size))
        if self.on_load is not None:
            self.on_load(self.current)
        RELOADS.labels("loaded").inc()
        LOADED.set(1)
        log.info("supergraph loaded", version=version, subgraphs=sorted(supergraph.graphs))
        return True
