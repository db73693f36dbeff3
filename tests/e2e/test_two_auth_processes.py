"""AuthApi scales out: two AuthApi processes, each talking to its own WarpCache process, both
WarpCache processes on one Redis (the redis engine, as production runs it). A one-time code
asked of one AuthApi is verified by the other, and the per-phone limit counts the requests
made to both. Real AuthApi, UserApi, LocalizationApi and WarpCache processes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from nudges_devstack.infra import Postgres, Redis, TansuBroker, free_port
from nudges_devstack.platform import Platform

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_auths(
    postgres: Postgres,
    redis_server: Redis,
    platform_broker: TansuBroker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    second_cache = free_port()
    redis = {
        "WARPCACHE_ENGINE": "redis",
        "WARPCACHE_REDIS_URL": redis_server.url,
        # A namespace of this run's own on the shared Redis.
        "WARPCACHE_REDIS_KEY_PREFIX": f"two-auths-{uuid.uuid4().hex[:8]}:",
    }
    running = Platform(
        postgres.url,
        platform_broker.bootstrap_servers,
        tmp_path_factory.mktemp("two-auths"),
        services=("warpcache", "warpcache-2", "localization", "user", "auth", "auth-2"),
        replicas={"warpcache-2": "warpcache", "auth-2": "auth"},
        grpc_ports={"warpcache-2": second_cache},
        overrides={
            "warpcache": redis,
            "warpcache-2": redis,
            "auth-2": {"WARPCACHE_URL": f"127.0.0.1:{second_cache}"},
        },
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _phone() -> str:
    # An exchange from 200 on: 1xx exchanges do not exist, and the number would be refused.
    return f"+1415{uuid.uuid4().int % 8_000_000 + 2_000_000}"


def _ask(platform: Platform, name: str, phone: str) -> httpx.Response:
    return httpx.post(
        platform.url(name, "/auth/otp"), json={"phone": phone, "role": "client"}, timeout=15
    )


def test_a_code_asked_of_one_auth_is_verified_by_the_other(two_auths: Platform) -> None:
    phone = _phone()
    sent = _ask(two_auths, "auth", phone)
    assert sent.status_code == 202, sent.text
    verified = httpx.post(
        two_auths.url("auth-2", "/auth/otp/verify"),
        json={"phone": phone, "role": "client", "code": sent.json()["code"]},
        timeout=15,
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["access_token"]


def test_the_per_phone_limit_counts_the_requests_of_both(two_auths: Platform) -> None:
    phone = _phone()
    # AuthApi's default: three codes per phone in ten minutes, whichever process is asked.
    answers = [_ask(two_auths, name, phone).status_code for name in ("auth", "auth-2") * 2]
    assert answers == [202, 202, 202, 429]
