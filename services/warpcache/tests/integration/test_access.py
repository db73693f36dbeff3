"""Who may use WarpCache, against the real ``nudges-warpcache`` process with its development
callers: a call without a valid caller token is UNAUTHENTICATED, a key outside the caller's
prefixes is PERMISSION_DENIED (batches key by key), and each caller's own paths still work.
Production without ``WARPCACHE_CALLERS`` does not start."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest

from nudges_devstack.infra import free_port
from nudges_kit._generated.warpcache.v1 import cache_pb2, cache_pb2_grpc
from nudges_kit.settings import development_warpcache_token
from nudges_kit.warpcache import CacheAccessDenied, WarpCacheClient


def metadata(caller: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {development_warpcache_token(caller)}"),)


@pytest.fixture
async def stub(warpcache_server: str) -> AsyncIterator[cache_pb2_grpc.WarpCacheStub]:
    async with grpc.aio.insecure_channel(warpcache_server) as channel:
        yield cache_pb2_grpc.WarpCacheStub(channel)


@pytest.fixture
def secret() -> str:
    """An id no other test uses."""
    return uuid.uuid4().hex


async def refusal(call: object) -> grpc.StatusCode:
    """The status a refused call answers with (fails the test when the call succeeds)."""
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call  # type: ignore[misc]
    code: grpc.StatusCode = refused.value.code()
    return code


async def auth_stores_session(stub: cache_pb2_grpc.WarpCacheStub, session_id: str) -> None:
    await stub.Set(
        cache_pb2.SetRequest(key=f"session:{session_id}", value=b"admin.jwt", ttl_seconds=60),
        metadata=metadata("auth"),
    )


# Authentication ----------------------------------------------------------------------


async def test_a_call_without_a_token_is_unauthenticated(
    stub: cache_pb2_grpc.WarpCacheStub, secret: str
) -> None:
    await auth_stores_session(stub, secret)
    read = stub.Get(cache_pb2.GetRequest(key=f"session:{secret}"), timeout=5)
    assert await refusal(read) == grpc.StatusCode.UNAUTHENTICATED


async def test_a_call_with_a_wrong_token_is_unauthenticated(
    stub: cache_pb2_grpc.WarpCacheStub, secret: str
) -> None:
    await auth_stores_session(stub, secret)
    wrong = (("authorization", f"Bearer {development_warpcache_token('auth')}x"),)
    read = stub.Get(cache_pb2.GetRequest(key=f"session:{secret}"), timeout=5, metadata=wrong)
    assert await refusal(read) == grpc.StatusCode.UNAUTHENTICATED
    reset = stub.Delete(
        cache_pb2.DeleteRequest(key=f"otp-attempts:{secret}"),
        timeout=5,
        metadata=(("authorization", "Basic " + development_warpcache_token("auth")),),
    )
    assert await refusal(reset) == grpc.StatusCode.UNAUTHENTICATED


async def test_the_kit_client_without_a_token_raises_access_denied(
    warpcache_server: str, secret: str
) -> None:
    async with WarpCacheClient(warpcache_server, retries=0) as cache:
        with pytest.raises(CacheAccessDenied) as denied:
            await cache.get(f"session:{secret}")
    assert denied.value.code == grpc.StatusCode.UNAUTHENTICATED


# Each caller its own prefixes --------------------------------------------------------


async def test_webhooks_cannot_read_a_session(
    stub: cache_pb2_grpc.WarpCacheStub, secret: str
) -> None:
    await auth_stores_session(stub, secret)
    key = f"session:{secret}"
    read = stub.Get(cache_pb2.GetRequest(key=key), timeout=5, metadata=metadata("webhooks"))
    assert await refusal(read) == grpc.StatusCode.PERMISSION_DENIED
    taken = stub.GetAndDelete(
        cache_pb2.GetAndDeleteRequest(key=key), timeout=5, metadata=metadata("webhooks")
    )
    assert await refusal(taken) == grpc.StatusCode.PERMISSION_DENIED
    # Nor hidden in a batch among its own keys.
    batch = stub.GetMany(
        cache_pb2.GetManyRequest(keys=[f"dialogue:draft:{secret}", key]),
        timeout=5,
        metadata=metadata("webhooks"),
    )
    assert await refusal(batch) == grpc.StatusCode.PERMISSION_DENIED


async def test_webhooks_cannot_reset_an_attempt_counter(
    stub: cache_pb2_grpc.WarpCacheStub, secret: str
) -> None:
    counter = f"otp-attempts:{secret}"
    auth = metadata("auth")
    for _ in range(5):
        await stub.Increment(cache_pb2.IncrementRequest(key=counter, amount=1), metadata=auth)

    webhooks = metadata("webhooks")
    resets = [
        stub.Delete(cache_pb2.DeleteRequest(key=counter), timeout=5, metadata=webhooks),
        stub.Set(cache_pb2.SetRequest(key=counter, value=b"0"), timeout=5, metadata=webhooks),
        stub.Increment(
            cache_pb2.IncrementRequest(key=counter, amount=-5), timeout=5, metadata=webhooks
        ),
        stub.SetMany(
            cache_pb2.SetManyRequest(
                entries=[
                    cache_pb2.SetRequest(key=f"dialogue:draft:{secret}", value=b"d"),
                    cache_pb2.SetRequest(key=counter, value=b"0"),
                ]
            ),
            timeout=5,
            metadata=webhooks,
        ),
    ]
    for reset in resets:
        assert await refusal(reset) == grpc.StatusCode.PERMISSION_DENIED

    left = await stub.Get(cache_pb2.GetRequest(key=counter), metadata=auth)
    assert left.value == b"5"
    # The refused SetMany stored none of its entries.
    draft = await stub.Get(cache_pb2.GetRequest(key=f"dialogue:draft:{secret}"), metadata=webhooks)
    assert not draft.found


async def test_the_gateway_reads_sessions_but_writes_nothing(
    stub: cache_pb2_grpc.WarpCacheStub, secret: str
) -> None:
    await auth_stores_session(stub, secret)
    gateway = metadata("gateway")
    read = await stub.Get(cache_pb2.GetRequest(key=f"session:{secret}"), metadata=gateway)
    assert read.value == b"admin.jwt"

    forged = stub.Set(
        cache_pb2.SetRequest(key=f"session:{secret}", value=b"forged.jwt"),
        timeout=5,
        metadata=gateway,
    )
    assert await refusal(forged) == grpc.StatusCode.PERMISSION_DENIED
    family = stub.Get(cache_pb2.GetRequest(key=f"refresh-family:{secret}"), metadata=gateway)
    assert await refusal(family) == grpc.StatusCode.PERMISSION_DENIED


# What each caller does still works ---------------------------------------------------


async def test_auth_uses_its_codes_counters_sessions_and_families(
    warpcache_server: str, secret: str
) -> None:
    async with WarpCacheClient(warpcache_server, token=development_warpcache_token("auth")) as c:
        await c.set(f"otp:client:{secret}", b"code", ttl_seconds=60)
        assert await c.get_and_delete(f"otp:client:{secret}") == b"code"
        assert await c.increment(f"otp-attempts:{secret}", ttl_seconds=60) == 1
        assert (await c.count(f"rl:otp-ip:{secret}", 1, 60)).value == 1
        await c.set_many(
            {
                f"session:{secret}": b"jwt",
                f"session-family:{secret}": b"f",
                f"refresh-family:{secret}": b"{}",
                f"refresh:{secret}": b"f",
                f"revoked:{secret}": b"1",
            },
            ttl_seconds=60,
        )
        assert await c.get_many([f"session:{secret}", f"refresh:{secret}"]) == {
            f"session:{secret}": b"jwt",
            f"refresh:{secret}": b"f",
        }
        assert await c.delete(f"session:{secret}")
        assert await c.get(f"revoked:{secret}") == b"1"


async def test_the_gateway_reads_sessions_and_revocations(
    warpcache_server: str, stub: cache_pb2_grpc.WarpCacheStub, secret: str
) -> None:
    await auth_stores_session(stub, secret)
    await stub.Set(
        cache_pb2.SetRequest(key=f"revoked:{secret}", value=b"1"), metadata=metadata("auth")
    )
    token = development_warpcache_token("gateway")
    async with WarpCacheClient(warpcache_server, token=token) as cache:
        session, revoked = await asyncio.gather(
            cache.get(f"session:{secret}"), cache.get(f"revoked:{secret}")
        )
    assert (session, revoked) == (b"admin.jwt", b"1")


async def test_webhooks_keep_drafts_and_event_claims_and_a_coalesced_batch_fails_only_the_refused_call(  # noqa: E501
    warpcache_server: str, stub: cache_pb2_grpc.WarpCacheStub, secret: str
) -> None:
    await auth_stores_session(stub, secret)
    token = development_warpcache_token("webhooks")
    async with WarpCacheClient(warpcache_server, token=token) as cache:
        await cache.set(f"dialogue:draft:{secret}", b"draft", ttl_seconds=60)
        assert await cache.increment(f"stripe-event:claim:{secret}", ttl_seconds=30) == 1
        assert await cache.get("webhooks:readyz") is None
        # Concurrent gets travel as one GetMany; the refused key fails its own caller only.
        draft, session = await asyncio.gather(
            cache.get(f"dialogue:draft:{secret}"),
            cache.get(f"session:{secret}"),
            return_exceptions=True,
        )
    assert draft == b"draft"
    assert isinstance(session, CacheAccessDenied)
    assert session.code == grpc.StatusCode.PERMISSION_DENIED


async def test_health_checks_need_no_token(warpcache_server: str) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with grpc.aio.insecure_channel(warpcache_server) as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="warpcache.v1.WarpCache"), timeout=5
        )
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


# Production --------------------------------------------------------------------------


def start_in_production(**env: str) -> subprocess.CompletedProcess[str]:
    """Run ``nudges-warpcache`` with ENVIRONMENT=production; it must exit by itself."""
    settings = {key: value for key, value in os.environ.items() if not key.startswith("WARPCACHE_")}
    return subprocess.run(
        [sys.executable, "-m", "nudges_warpcache.main"],
        env={
            **settings,
            "ENVIRONMENT": "production",
            "GRPC_PORT": str(free_port()),
            "HTTP_PORT": str(free_port()),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_production_without_callers_refuses_to_start() -> None:
    try:
        started = start_in_production()
    except subprocess.TimeoutExpired:
        pytest.fail("nudges-warpcache served in production with no WARPCACHE_CALLERS")
    assert started.returncode != 0
    assert started.stderr.strip().splitlines() == [
        "warpcache: missing production settings: WARPCACHE_CALLERS"
    ]


def test_production_refuses_a_development_token() -> None:
    try:
        started = start_in_production(
            WARPCACHE_CALLERS=f'{{"auth": "{development_warpcache_token("auth")}"}}'
        )
    except subprocess.TimeoutExpired:
        pytest.fail("nudges-warpcache served in production with a development token")
    assert started.returncode != 0
    assert "WARPCACHE_CALLERS" in started.stderr
    assert "development token" in started.stderr
