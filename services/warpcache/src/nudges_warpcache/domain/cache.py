"""The cache itself: bounded memory, LRU eviction and expiry, with no I/O.

Every operation runs to completion without yielding, so in the single event loop of the
service each one is atomic: concurrent increments never lose an update, and of concurrent
``get_and_delete`` calls exactly one sees the value.
"""

from __future__ import annotations

import heapq
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Longest key, in UTF-8 bytes.
MAX_KEY_BYTES = 512
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_COUNTER = re.compile(rb"-?[0-9]{1,19}")

Clock = Callable[[], float]


class InvalidRequest(ValueError):
    """The caller asked for something the cache refuses: bad key, value, TTL or batch."""


class NotACounter(Exception):
    """``increment`` of a key whose value is not a decimal integer."""


class CounterOutOfRange(Exception):
    """``increment`` whose result would not fit in a signed 64-bit integer."""


@dataclass(frozen=True)
class Entry:
    """One item of a ``set_many`` batch."""

    key: str
    value: bytes
    ttl_seconds: float | None = None


@dataclass(frozen=True)
class Counted:
    """A counter just incremented: its new value, and seconds until it expires (None: never)."""

    value: int
    expires_in: float | None


@dataclass
class CacheStats:
    """Running totals since the cache was created."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0
    expirations: int = 0


class _Slot:
    """What the cache holds for one key. ``size`` is key plus value bytes."""

    __slots__ = ("expires_at", "size", "value")

    def __init__(self, value: bytes, size: int, expires_at: float | None) -> None:
        self.value = value
        self.size = size
        self.expires_at = expires_at


class Cache:
    """Key-value store bounded by entry count and by bytes (keys plus values).

    Writes that take the cache over a bound evict least recently used entries (a read or
    write is a use) until it is back within both. Expired entries are never returned: a
    read removes them on the spot, and :meth:`sweep` reclaims the ones nobody reads.
    """

    def __init__(
        self,
        *,
        max_entries: int,
        max_bytes: int,
        max_value_bytes: int,
        max_batch_keys: int = 1000,
        clock: Clock = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        if max_bytes < max_value_bytes + MAX_KEY_BYTES:
            raise ValueError("max_bytes must hold at least one entry of max_value_bytes")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_value_bytes = max_value_bytes
        self.max_batch_keys = max_batch_keys
        self.stats = CacheStats()
        self._clock = clock
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._bytes = 0
        # (expires_at, key) of every entry written with a TTL; items whose entry has since
        # changed or gone are skipped when they come up, and pruned when they pile up.
        self._expiry_heap: list[tuple[float, str]] = []

    # Reads -----------------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        """The value of ``key``, or None when absent or expired; marks it recently used."""
        check_key(key)
        slot = self._live(key, self._clock())
        if slot is None:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        self._slots.move_to_end(key)
        return slot.value

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """The values of those ``keys`` that are present; each found key is marked used."""
        check_batch(len(keys), self.max_batch_keys)
        for key in keys:
            check_key(key)
        found: dict[str, bytes] = {}
        now = self._clock()
        for key in keys:
            slot = self._live(key, now)
            if slot is None:
                self.stats.misses += 1
                continue
            self.stats.hits += 1
            self._slots.move_to_end(key)
            found[key] = slot.value
        return found

    def get_and_delete(self, key: str) -> bytes | None:
        """Remove ``key`` and return its value (None when absent or expired)."""
        check_key(key)
        slot = self._live(key, self._clock())
        if slot is None:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        self._remove(key, slot)
        return slot.value

    # Writes ----------------------------------------------------------------------------

    def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        """Store ``value`` under ``key`` (replacing value and TTL); None TTL never expires."""
        key_size = check_key(key)
        check_value(value, self.max_value_bytes)
        check_ttl(ttl_seconds)
        now = self._clock()
        self._store(key, value, key_size, self._expires_at(ttl_seconds, now), now)

    def set_many(self, entries: Sequence[Entry]) -> None:
        """Store every entry, or none when any of them is invalid."""
        check_batch(len(entries), self.max_batch_keys)
        sizes = []
        for entry in entries:
            sizes.append(check_key(entry.key))
            check_value(entry.value, self.max_value_bytes)
            check_ttl(entry.ttl_seconds)
        now = self._clock()
        for entry, key_size in zip(entries, sizes, strict=True):
            expires_at = self._expires_at(entry.ttl_seconds, now)
            self._store(entry.key, entry.value, key_size, expires_at, now)

    def delete(self, key: str) -> bool:
        """Remove ``key``; True when a live entry was removed."""
        check_key(key)
        slot = self._live(key, self._clock())
        if slot is None:
            return False
        self._remove(key, slot)
        return True

    def increment(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> int:
        """Add ``amount`` to the counter at ``key`` and return the result.

        A missing or expired counter starts from 0 and expires after ``ttl_seconds``; an
        existing counter keeps the expiry it was created with.
        """
        return self.count(key, amount, ttl_seconds).value

    def count(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> Counted:
        """:meth:`increment`, also saying how long the counter has left."""
        key_size = check_key(key)
        check_ttl(ttl_seconds)
        check_amount(amount)
        now = self._clock()
        slot = self._live(key, now)
        if slot is None:
            current, expires_at = 0, self._expires_at(ttl_seconds, now)
        elif _COUNTER.fullmatch(slot.value):
            current, expires_at = int(slot.value), slot.expires_at
        else:
            raise NotACounter(f"the value of {key!r} is not an integer counter")
        result = current + amount
        if not INT64_MIN <= result <= INT64_MAX:
            raise CounterOutOfRange(f"incrementing {key!r} would overflow a 64-bit counter")
        self._store(key, str(result).encode(), key_size, expires_at, now, new_expiry=slot is None)
        return Counted(result, None if expires_at is None else expires_at - now)

    # Housekeeping ----------------------------------------------------------------------

    def sweep(self, limit: int = 10_000) -> int:
        """Reclaim up to ``limit`` expired entries, oldest expiry first; returns how many."""
        now = self._clock()
        heap = self._expiry_heap
        reclaimed = 0
        while heap and heap[0][0] <= now and reclaimed < limit:
            _, key = heapq.heappop(heap)
            slot = self._slots.get(key)
            if slot is not None and slot.expires_at is not None and slot.expires_at <= now:
                self._remove(key, slot)
                self.stats.expirations += 1
                reclaimed += 1
        return reclaimed

    @property
    def entries(self) -> int:
        """How many entries the cache holds (expired ones not yet reclaimed included)."""
        return len(self._slots)

    @property
    def total_bytes(self) -> int:
        """Bytes of keys plus values held."""
        return self._bytes

    def keys(self) -> list[str]:
        """Every key held, least recently used first (without marking any as used)."""
        return list(self._slots)

    # Internals -------------------------------------------------------------------------

    def _live(self, key: str, now: float) -> _Slot | None:
        slot = self._slots.get(key)
        if slot is None:
            return None
        if slot.expires_at is not None and slot.expires_at <= now:
            self._remove(key, slot)
            self.stats.expirations += 1
            return None
        return slot

    def _store(
        self,
        key: str,
        value: bytes,
        key_size: int,
        expires_at: float | None,
        now: float,
        *,
        new_expiry: bool = True,
    ) -> None:
        old = self._slots.get(key)
        if old is not None:
            self._bytes -= old.size
        slot = _Slot(value, key_size + len(value), expires_at)
        self._slots[key] = slot
        self._slots.move_to_end(key)
        self._bytes += slot.size
        if expires_at is not None and new_expiry:
            heapq.heappush(self._expiry_heap, (expires_at, key))
            if len(self._expiry_heap) > 2 * len(self._slots) + 1024:
                self._rebuild_expiry_heap()
        self._evict_over_bounds(now)

    def _evict_over_bounds(self, now: float) -> None:
        # The entry just written is the most recent one and fits alone, so it stays.
        while len(self._slots) > self.max_entries or self._bytes > self.max_bytes:
            _, slot = self._slots.popitem(last=False)
            self._bytes -= slot.size
            if slot.expires_at is not None and slot.expires_at <= now:
                self.stats.expirations += 1
            else:
                self.stats.evictions += 1

    def _remove(self, key: str, slot: _Slot) -> None:
        del self._slots[key]
        self._bytes -= slot.size

    def _rebuild_expiry_heap(self) -> None:
        self._expiry_heap = [
            (slot.expires_at, key)
            for key, slot in self._slots.items()
            if slot.expires_at is not None
        ]
        heapq.heapify(self._expiry_heap)

    def _expires_at(self, ttl_seconds: float | None, now: float) -> float | None:
        return None if ttl_seconds is None else now + ttl_seconds


# The checks every storage engine applies before it reads or writes, so that each refuses
# the same requests with the same words.


def check_key(key: str) -> int:
    """The key's size in bytes, once it is known to be valid (else :class:`InvalidRequest`)."""
    if not key:
        raise InvalidRequest("key must not be empty")
    size = len(key) if key.isascii() else len(key.encode())
    if size > MAX_KEY_BYTES:
        raise InvalidRequest(f"key of {size} bytes is over the limit of {MAX_KEY_BYTES}")
    return size


def check_ttl(ttl_seconds: float | None) -> None:
    """Refuse a TTL that is not a positive finite number of seconds (None: no expiry)."""
    if ttl_seconds is not None and not (math.isfinite(ttl_seconds) and ttl_seconds > 0):
        raise InvalidRequest(f"ttl_seconds must be a positive number, not {ttl_seconds}")


def check_value(value: bytes, max_value_bytes: int) -> None:
    """Refuse a value over ``max_value_bytes``."""
    if len(value) > max_value_bytes:
        raise InvalidRequest(f"value of {len(value)} bytes is over the limit of {max_value_bytes}")


def check_batch(size: int, max_batch_keys: int) -> None:
    """Refuse a GetMany or SetMany of more than ``max_batch_keys`` keys."""
    if size > max_batch_keys:
        raise InvalidRequest(f"batch of {size} keys is over the limit of {max_batch_keys}")


def check_amount(amount: int) -> None:
    """Refuse an increment that does not fit in a signed 64-bit integer."""
    if not INT64_MIN <= amount <= INT64_MAX:
        raise InvalidRequest("amount must fit in a signed 64-bit integer")
