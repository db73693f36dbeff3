"""The redis engine as ElastiCache asks: ``rediss://`` (TLS) verified against
``WARPCACHE_REDIS_CA_FILE``, and an AUTH token (``WARPCACHE_REDIS_AUTH_TOKEN``). Against a
``redis-server`` of the test's own with TLS only and ``--requirepass``, with a CA and a
server certificate made for the test."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from nudges_devstack.infra import free_port
from nudges_warpcache.bootstrap import WarpcacheService
from nudges_warpcache.domain.store import StoreUnavailable
from nudges_warpcache.settings import WarpcacheSettings

from ..conftest import RedisProcess, redis_server_binary, running_warpcache

TOKEN = "test-auth-token-0123456789"

pytestmark = pytest.mark.skipif(
    redis_server_binary(tls=True) is None or shutil.which("openssl") is None,
    reason="needs a redis-server built with TLS and the openssl binary",
)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ca.crt`` and ``server.{crt,key}`` for 127.0.0.1, signed by that CA."""
    folder = tmp_path_factory.mktemp("redis-tls")
    _openssl(
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
        *("-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=warpcache-test-ca"),
        cwd=folder,
    )
    _openssl(
        *("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key"),
        *("-out", "server.csr", "-subj", "/CN=127.0.0.1"),
        cwd=folder,
    )
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl(
        *("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key"),
        *("-CAcreateserial", "-days", "1", "-out", "server.crt", "-extfile", "san.ext"),
        cwd=folder,
    )
    return folder


@pytest.fixture(scope="module")
def tls_redis(certificates: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(
        free_port(),
        tls=True,
        options=[
            *("--tls-cert-file", str(certificates / "server.crt")),
            *("--tls-key-file", str(certificates / "server.key")),
            *("--tls-ca-cert-file", str(certificates / "ca.crt")),
            *("--tls-auth-clients", "no", "--requirepass", TOKEN),
        ],
    )
    server.start()
    yield server
    server.stop()


async def test_tls_verified_by_the_ca_file_and_the_auth_token(
    tls_redis: RedisProcess, certificates: Path
) -> None:
    async with (
        running_warpcache(
            warpcache_engine="redis",
            warpcache_redis_url=tls_redis.url,
            warpcache_redis_ca_file=str(certificates / "ca.crt"),
            warpcache_redis_auth_token=TOKEN,
        ) as server,
        server.client() as cache,
    ):
        assert tls_redis.url.startswith("rediss://")
        await cache.set("session:tls", b"over TLS", ttl_seconds=60)
        assert await cache.get("session:tls") == b"over TLS"
        assert await cache.increment("attempts:tls", ttl_seconds=60) == 1


@pytest.mark.parametrize(
    ("settings", "why"),
    [
        ({"warpcache_redis_auth_token": "wrong-token"}, "invalid"),
        ({}, "Authentication"),
        ({"warpcache_redis_ca_file": "", "warpcache_redis_auth_token": TOKEN}, "certificate"),
    ],
    ids=["wrong-token", "no-token", "untrusted-certificate"],
)
async def test_a_redis_it_may_not_use_stops_start_up(
    tls_redis: RedisProcess, certificates: Path, settings: dict[str, str], why: str
) -> None:
    config = WarpcacheSettings(
        **{
            "environment": "test",
            "grpc_port": 0,
            "http_port": 0,
            "warpcache_engine": "redis",
            "warpcache_redis_url": tls_redis.url,
            "warpcache_redis_ca_file": str(certificates / "ca.crt"),
            **settings,
        }
    )
    service = WarpcacheService(config)
    with pytest.raises(StoreUnavailable, match="WARPCACHE_REDIS_URL") as raised:
        await service.start()
    await service.store.close()
    assert why.lower() in str(raised.value).lower()
    assert TOKEN not in str(raised.value)
