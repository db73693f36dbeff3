"""Prometheus metrics of the caches in this process, read from their stats at scrape time
(so the hot path pays nothing for them). With the redis engine only hits and misses are
counted here: Redis reports its own memory, keys, evictions and expirations (``INFO``)."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from nudges_warpcache.domain.cache import Cache, CacheStats


class _Counted(Protocol):
    stats: CacheStats


class CacheCollector(Collector):
    """``warpcache_{hits,misses,evictions,expirations}_total``, ``warpcache_entries`` and
    ``warpcache_bytes``, summed over the tracked caches (one in a running service)."""

    def __init__(self) -> None:
        self._sources: weakref.WeakSet[_Counted] = weakref.WeakSet()

    def track(self, source: _Counted) -> None:
        """Report ``source`` (a memory :class:`Cache`, or a store with stats) from now on."""
        self._sources.add(source)

    def untrack(self, source: _Counted) -> None:
        """Stop reporting ``source``."""
        self._sources.discard(source)

    def collect(self) -> Iterator[Metric]:
        sources = list(self._sources)
        caches = [s for s in sources if isinstance(s, Cache)]
        counters = {
            "hits": "Reads (Get, GetMany keys, GetAndDelete) that found a live entry",
            "misses": "Reads that found no live entry",
            "evictions": "Entries evicted, least recently used first, to stay within bounds",
            "expirations": "Entries removed because their TTL passed",
        }
        for name, documentation in counters.items():
            yield CounterMetricFamily(
                f"warpcache_{name}",
                documentation,
                value=sum(getattr(s.stats, name) for s in sources),
            )
        yield GaugeMetricFamily(
            "warpcache_entries", "Entries held", value=sum(c.entries for c in caches)
        )
        yield GaugeMetricFamily(
            "warpcache_bytes",
            "Bytes of keys plus values held",
            value=sum(c.total_bytes for c in caches),
        )
        yield GaugeMetricFamily(
            "warpcache_max_bytes", "Byte bound of the cache", value=sum(c.max_bytes for c in caches)
        )
        yield GaugeMetricFamily(
            "warpcache_max_entries",
            "Entry bound of the cache",
            value=sum(c.max_entries for c in caches),
        )


#: The collector registered with the default registry (served by ``/metrics``).
CACHE_METRICS = CacheCollector()
REGISTRY.register(CACHE_METRICS)
