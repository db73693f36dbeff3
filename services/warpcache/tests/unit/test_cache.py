"""The cache's decisions: LRU eviction within entry and byte bounds, expiry on an injected
clock, counters, one-time reads and the refusals of bad input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nudges_warpcache.domain.cache import (
    INT64_MAX,
    INT64_MIN,
    MAX_KEY_BYTES,
    Cache,
    CounterOutOfRange,
    Entry,
    InvalidRequest,
    NotACounter,
)


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_cache(
    clock: FakeClock,
    *,
    max_entries: int = 100,
    max_bytes: int = 100_000,
    max_value_bytes: int = 1000,
    max_batch_keys: int = 10,
) -> Cache:
    return Cache(
        max_entries=max_entries,
        max_bytes=max_bytes,
        max_value_bytes=max_value_bytes,
        max_batch_keys=max_batch_keys,
        clock=clock,
    )


# LRU and bounds ----------------------------------------------------------------------


def test_entry_bound_evicts_the_least_recently_used(clock: FakeClock) -> None:
    cache = make_cache(clock, max_entries=3)
    for key in ("a", "b", "c"):
        cache.set(key, b"v")
    assert cache.get("a") == b"v"  # a is now the most recently used

    cache.set("d", b"v")

    assert cache.keys() == ["c", "a", "d"]
    assert cache.get("b") is None
    assert cache.stats.evictions == 1


def test_writes_count_as_use(clock: FakeClock) -> None:
    cache = make_cache(clock, max_entries=2)
    cache.set("a", b"1")
    cache.set("b", b"1")
    cache.set("a", b"2")  # overwrite: a becomes the most recent
    cache.increment("n")  # a new key: evicts b, the least recent

    assert cache.keys() == ["a", "n"]


def test_get_many_marks_found_keys_used(clock: FakeClock) -> None:
    cache = make_cache(clock, max_entries=3)
    for key in ("a", "b", "c"):
        cache.set(key, b"v")

    assert cache.get_many(["a", "missing", "b"]) == {"a": b"v", "b": b"v"}
    assert cache.keys() == ["c", "a", "b"]
    assert (cache.stats.hits, cache.stats.misses) == (2, 1)


def test_no_eviction_within_bounds(clock: FakeClock) -> None:
    cache = make_cache(clock, max_entries=50)
    for i in range(50):
        cache.set(f"k{i}", b"v")

    assert cache.entries == 50
    assert cache.stats.evictions == 0


def test_byte_bound_counts_keys_and_values(clock: FakeClock) -> None:
    cache = make_cache(clock, max_bytes=2000, max_value_bytes=1000)
    cache.set("a", b"x" * 999)  # 1000 bytes with the key
    cache.set("b", b"x" * 499)  # 500
    assert cache.total_bytes == 1500

    cache.set("c", b"x" * 999)  # would be 2500: a goes

    assert cache.keys() == ["b", "c"]
    assert cache.total_bytes == 1500
    assert cache.stats.evictions == 1


def test_byte_bound_evicts_as_many_as_needed(clock: FakeClock) -> None:
    cache = make_cache(clock, max_bytes=2100, max_value_bytes=1500)
    for key in "abcde":
        cache.set(key, b"x" * 199)  # 200 bytes each

    cache.set("big", b"x" * 1497)  # 1500: 1000 + 1500 > 2100, so two must go

    assert cache.keys() == ["c", "d", "e", "big"]
    assert cache.total_bytes == 2100
    assert cache.stats.evictions == 2


def test_overwrite_and_delete_keep_the_byte_count(clock: FakeClock) -> None:
    cache = make_cache(clock)
    cache.set("key", b"x" * 100)
    cache.set("key", b"x" * 10)
    assert cache.total_bytes == 13
    cache.increment("n", 100)
    assert cache.total_bytes == 13 + 1 + 3
    assert cache.delete("key")
    assert cache.get_and_delete("n") == b"100"
    assert (cache.total_bytes, cache.entries) == (0, 0)


def test_the_largest_allowed_entry_always_fits(clock: FakeClock) -> None:
    cache = make_cache(clock, max_bytes=1000 + MAX_KEY_BYTES, max_value_bytes=1000)
    cache.set("small", b"x")
    key = "k" * MAX_KEY_BYTES

    cache.set(key, b"x" * 1000)

    assert cache.keys() == [key]


def test_bounds_that_cannot_hold_one_entry_are_refused() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        Cache(max_entries=10, max_bytes=1000, max_value_bytes=1000)
    with pytest.raises(ValueError, match="max_entries"):
        Cache(max_entries=0, max_bytes=10_000, max_value_bytes=1000)


# Expiry ------------------------------------------------------------------------------


def test_expired_entries_are_never_returned(clock: FakeClock) -> None:
    cache = make_cache(clock)
    cache.set("otp", b"123456", ttl_seconds=300)

    clock.advance(299.9)
    assert cache.get("otp") == b"123456"
    clock.advance(0.1)  # exactly at the expiry: gone
    assert cache.get("otp") is None
    assert cache.get_and_delete("otp") is None
    assert cache.get_many(["otp"]) == {}
    assert not cache.delete("otp")


def test_reading_an_expired_entry_reclaims_it(clock: FakeClock) -> None:
    cache = make_cache(clock)
    cache.set("a", b"1", ttl_seconds=1)
    cache.set("b", b"1")
    clock.advance(1)

    assert cache.get("a") is None

    assert cache.keys() == ["b"]
    assert cache.total_bytes == 2
    assert cache.stats.expirations == 1
    assert cache.stats.misses == 1


def test_entries_without_ttl_never_expire(clock: FakeClock) -> None:
    cache = make_cache(clock)
    cache.set("forever", b"1")
    clock.advance(10 * 365 * 86400)
    assert cache.get("forever") == b"1"


def test_overwrite_replaces_the_ttl(clock: FakeClock) -> None:
    cache = make_cache(clock)
    cache.set("k", b"1", ttl_seconds=10)
    cache.set("k", b"2", ttl_seconds=100)
    clock.advance(50)
    assert cache.sweep() == 0
    assert cache.get("k") == b"2"
    cache.set("k", b"3")  # no TTL now
    clock.advance(1000)
    assert cache.sweep() == 0
    assert cache.get("k") == b"3"


def test_sweep_reclaims_expired_entries_nobody_reads(clock: FakeClock) -> None:
    cache = make_cache(clock)
    for i in range(10):
        cache.set(f"short{i}", b"x", ttl_seconds=5)
    cache.set("long", b"x", ttl_seconds=60)
    cache.set("forever", b"x")
    clock.advance(5)

    assert cache.sweep(limit=4) == 4
    assert cache.sweep() == 6
    assert cache.sweep() == 0
    assert sorted(cache.keys()) == ["forever", "long"]
    assert cache.stats.expirations == 10
    assert cache.total_bytes == len("forever") + 1 + len("long") + 1


def test_evicting_an_expired_entry_counts_as_expiration(clock: FakeClock) -> None:
    cache = make_cache(clock, max_entries=2)
    cache.set("old", b"x", ttl_seconds=1)
    cache.set("b", b"x")
    clock.advance(2)

    cache.set("c", b"x")

    assert cache.keys() == ["b", "c"]
    assert (cache.stats.expirations, cache.stats.evictions) == (1, 0)


def test_rewriting_keys_with_ttls_does_not_grow_without_bound(clock: FakeClock) -> None:
    cache = make_cache(clock)
    for i in range(20_000):
        cache.set("same", str(i).encode(), ttl_seconds=60)
    assert len(cache._expiry_heap) <= 2 * cache.entries + 1024
    clock.advance(60)
    assert cache.sweep() == 1
    assert cache.entries == 0


# Counters ----------------------------------------------------------------------------


def test_increment_creates_counts_and_stores_decimal(clock: FakeClock) -> None:
    cache = make_cache(clock)
    assert cache.increment("attempts") == 1
    assert cache.increment("attempts") == 2
    assert cache.increment("attempts", 10) == 12
    assert cache.increment("attempts", -20) == -8
    assert cache.get("attempts") == b"-8"
    cache.set("preset", b"41")
    assert cache.increment("preset") == 42


def test_counter_ttl_is_set_when_created_and_kept(clock: FakeClock) -> None:
    cache = make_cache(clock)
    assert cache.increment("rate", ttl_seconds=60) == 1
    clock.advance(59)
    assert cache.increment("rate", ttl_seconds=60) == 2  # does not extend the window
    clock.advance(1)
    assert cache.get("rate") is None
    assert cache.increment("rate", ttl_seconds=60) == 1  # a new window


def test_increment_refuses_values_that_are_not_counters(clock: FakeClock) -> None:
    cache = make_cache(clock)
    for value in (b"draft", b"", b" 1", b"1.5", b"1_000", b"99999999999999999999"):
        cache.set("k", value)
        with pytest.raises(NotACounter):
            cache.increment("k")
        assert cache.get("k") == value


def test_counter_stays_in_int64(clock: FakeClock) -> None:
    cache = make_cache(clock)
    cache.increment("k", INT64_MAX)
    with pytest.raises(CounterOutOfRange):
        cache.increment("k")
    assert cache.increment("k", 0) == INT64_MAX
    cache.increment("low", INT64_MIN)
    with pytest.raises(CounterOutOfRange):
        cache.increment("low", -1)
    with pytest.raises(InvalidRequest):
        cache.increment("k", INT64_MAX + 1)


# One-time reads and batches ----------------------------------------------------------


def test_get_and_delete_returns_a_value_once(clock: FakeClock) -> None:
    cache = make_cache(clock)
    cache.set("secret", b"s3cr3t", ttl_seconds=300)
    assert cache.get_and_delete("secret") == b"s3cr3t"
    assert cache.get_and_delete("secret") is None
    assert cache.get("secret") is None


def test_set_many_stores_all_or_nothing(clock: FakeClock) -> None:
    cache = make_cache(clock)
    cache.set_many([Entry("a", b"1"), Entry("b", b"2", ttl_seconds=5)])
    assert cache.get_many(["a", "b"]) == {"a": b"1", "b": b"2"}

    with pytest.raises(InvalidRequest):
        cache.set_many([Entry("c", b"3"), Entry("", b"4")])
    assert cache.get("c") is None

    clock.advance(5)
    assert cache.get_many(["a", "b"]) == {"a": b"1"}


def test_batches_are_limited(clock: FakeClock) -> None:
    cache = make_cache(clock, max_batch_keys=10)
    with pytest.raises(InvalidRequest, match="batch"):
        cache.get_many([f"k{i}" for i in range(11)])
    with pytest.raises(InvalidRequest, match="batch"):
        cache.set_many([Entry(f"k{i}", b"") for i in range(11)])


# Refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["", "k" * (MAX_KEY_BYTES + 1), "é" * (MAX_KEY_BYTES // 2 + 1)],
    ids=["empty", "513-ascii", "514-bytes-of-utf8"],
)
def test_bad_keys_are_refused(clock: FakeClock, key: str) -> None:
    cache = make_cache(clock)
    for operation in (
        lambda: cache.get(key),
        lambda: cache.set(key, b""),
        lambda: cache.delete(key),
        lambda: cache.get_and_delete(key),
        lambda: cache.increment(key),
        lambda: cache.get_many([key]),
    ):
        with pytest.raises(InvalidRequest, match="key"):
            operation()
    assert cache.entries == 0


def test_keys_up_to_512_bytes_are_accepted(clock: FakeClock) -> None:
    cache = make_cache(clock)
    cache.set("k" * MAX_KEY_BYTES, b"1")
    cache.set("é" * (MAX_KEY_BYTES // 2), b"1")
    assert cache.entries == 2


def test_values_over_the_limit_are_refused(clock: FakeClock) -> None:
    cache = make_cache(clock, max_value_bytes=1000)
    cache.set("k", b"x" * 1000)
    with pytest.raises(InvalidRequest, match="value"):
        cache.set("k", b"x" * 1001)
    assert cache.get("k") == b"x" * 1000


@pytest.mark.parametrize("ttl", [-1.0, 0.0, math.nan, math.inf])
def test_ttls_must_be_positive_and_finite(clock: FakeClock, ttl: float) -> None:
    cache = make_cache(clock)
    with pytest.raises(InvalidRequest, match="ttl"):
        cache.set("k", b"v", ttl_seconds=ttl)
    with pytest.raises(InvalidRequest, match="ttl"):
        cache.increment("k", ttl_seconds=ttl)
    assert cache.entries == 0


# Against a model ---------------------------------------------------------------------

_keys = st.sampled_from([f"k{i}" for i in range(8)])
_operations = st.lists(
    st.one_of(
        st.tuples(st.just("set"), _keys, st.binary(max_size=40), st.none() | st.integers(1, 5)),
        st.tuples(st.just("get"), _keys),
        st.tuples(st.just("delete"), _keys),
        st.tuples(st.just("get_and_delete"), _keys),
        st.tuples(st.just("advance"), st.integers(0, 3)),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(_operations)
def test_matches_a_simple_model(operations: list[tuple[object, ...]]) -> None:
    """Bounds, byte accounting, LRU order and expiry agree with a plain list model."""
    clock = FakeClock()
    cache = Cache(max_entries=4, max_bytes=600, max_value_bytes=40, clock=clock)
    # (key, value, expires_at), least recently used first; expired items stay until read
    # or pushed out, as in the cache.
    model: list[tuple[str, bytes, float | None]] = []

    def find(key: str) -> tuple[str, bytes, float | None] | None:
        return next((item for item in model if item[0] == key), None)

    def live(key: str) -> tuple[str, bytes, float | None] | None:
        item = find(key)
        if item is not None and item[2] is not None and item[2] <= clock.now:
            model.remove(item)
            return None
        return item

    def size() -> int:
        return sum(len(key) + len(value) for key, value, _ in model)

    for op in operations:
        match op:
            case ("set", str(key), bytes(value), int() | None as ttl):
                if (item := find(key)) is not None:
                    model.remove(item)
                model.append((key, value, None if ttl is None else clock.now + ttl))
                while len(model) > 4 or size() > 600:
                    model.pop(0)
                cache.set(key, value, None if ttl is None else float(ttl))
            case ("get", str(key)):
                if (item := live(key)) is not None:
                    model.remove(item)
                    model.append(item)
                assert cache.get(key) == (None if item is None else item[1])
            case ("delete", str(key)):
                if (item := live(key)) is not None:
                    model.remove(item)
                assert cache.delete(key) == (item is not None)
            case ("get_and_delete", str(key)):
                if (item := live(key)) is not None:
                    model.remove(item)
                assert cache.get_and_delete(key) == (None if item is None else item[1])
            case ("advance", int(seconds)):
                clock.advance(seconds)
        assert cache.keys() == [key for key, _, _ in model]
        assert cache.total_bytes == size()
        assert cache.entries <= 4
        assert cache.total_bytes <= 600

    cache.sweep()
    assert cache.keys() == [
        key for key, _, expires in model if expires is None or expires > clock.now
    ]
