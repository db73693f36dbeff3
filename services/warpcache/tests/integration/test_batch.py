"""The mixed batch (``Batch``): operations of every kind in one call, applied in order and
answered in order, on both storage engines; checked whole before anything is applied."""

from __future__ import annotations

import uuid

import grpc
import pytest

from nudges_kit.settings import development_warpcache_token
from nudges_kit.warpcache import (
    CacheAccessDenied,
    Counted,
    DeleteOp,
    GetAndDeleteOp,
    GetOp,
    IncrementOp,
    InvalidCacheRequest,
    NotACounter,
    SetOp,
    WarpCacheClient,
)


@pytest.fixture
def key() -> str:
    """A key no other test uses."""
    return f"test:{uuid.uuid4().hex}"


async def test_operations_of_every_kind_are_applied_and_answered_in_order(
    cache: WarpCacheClient, key: str
) -> None:
    await cache.set(f"{key}:old", b"old")
    answers = await cache.batch(
        [
            SetOp(f"{key}:a", b"1", 60),
            GetOp(f"{key}:a"),
            GetOp(f"{key}:missing"),
            IncrementOp(f"{key}:n", 2, 60),
            IncrementOp(f"{key}:n", 3),
            GetAndDeleteOp(f"{key}:old"),
            GetAndDeleteOp(f"{key}:old"),
            DeleteOp(f"{key}:a"),
            DeleteOp(f"{key}:a"),
        ]
    )
    assert answers[:3] == [None, b"1", None]
    assert [a.value for a in answers[3:5]] == [2, 5]
    assert isinstance(answers[4], Counted)
    assert 0 < (answers[4].expires_in or 0) <= 60
    assert answers[5:] == [b"old", None, True, False]
    assert await cache.get(f"{key}:n") == b"5"


async def test_an_invalid_operation_refuses_the_batch_before_anything_is_applied(
    cache: WarpCacheClient, key: str
) -> None:
    for invalid in (SetOp(f"{key}:b", b"v", -1), GetOp(""), IncrementOp("k" * 600)):
        with pytest.raises(InvalidCacheRequest):
            await cache.batch([SetOp(f"{key}:a", b"1"), IncrementOp(f"{key}:n"), invalid])
    assert await cache.get(f"{key}:a") is None
    assert await cache.get(f"{key}:n") is None


async def test_an_operation_refused_once_applied_ends_the_batch_with_its_status(
    cache: WarpCacheClient, key: str
) -> None:
    with pytest.raises(NotACounter):
        await cache.batch(
            [SetOp(f"{key}:text", b"words"), IncrementOp(f"{key}:text"), SetOp(f"{key}:x", b"1")]
        )
    # What came before stays applied; what came after was not.
    assert await cache.get(f"{key}:text") == b"words"
    assert await cache.get(f"{key}:x") is None


async def test_a_batch_reaches_only_the_callers_prefixes(warpcache_server: str) -> None:
    secret = uuid.uuid4().hex
    async with (
        WarpCacheClient(warpcache_server, token=development_warpcache_token("auth")) as auth,
        WarpCacheClient(warpcache_server, token=development_warpcache_token("gateway")) as gateway,
    ):
        await auth.batch([SetOp(f"session:{secret}", b"jwt", 60)])
        # The gateway reads sessions, and writes nothing: one write refuses the whole batch.
        assert await gateway.batch([GetOp(f"session:{secret}")]) == [b"jwt"]
        for write in (
            DeleteOp(f"session:{secret}"),
            GetAndDeleteOp(f"session:{secret}"),
            IncrementOp(f"session:{secret}:n"),
        ):
            with pytest.raises(CacheAccessDenied) as refused:
                await gateway.batch([GetOp(f"session:{secret}"), write])
            assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(CacheAccessDenied):
            await auth.batch([GetOp(f"dialogue:{secret}")])
        assert await auth.get(f"session:{secret}") == b"jwt"
