"""Prometheus metrics of the caches in this process, read from their stats at scrape time
(so the hot path pays nothing for them)."""

from __future__ import annotations

import weakref
from collections.abc import Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from nudges_warpcache.domain.cache import Cache


class CacheCollector(Collector):
    """``warpcache_{hits,misses,evictions,expirations}_total``, ``warpcache_entries`` and
    ``warpcache_bytes``, summed over the tracked caches (one in a running service)."""

    def __init__(self) -> None:
        self._caches: weakref.WeakSet[Cache] = weakref.WeakSet()

    def track(self, cache: Cache) -> None:
        """Report ``cache`` from now on."""
        self._caches.add(cache)

    def untrack(self, cache: Cache) -> None:
        """Stop reporting ``cache``."""
        self._caches.discard(cache)

    def collect(self) -> Iterator[Metric]:
        caches = list(self._caches)
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
                value=sum(getattr(c.stats, name) for c in caches),
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
