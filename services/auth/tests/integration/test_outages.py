"""When WarpCache or Kafka is down AuthApi answers 503 (never 500) and leaves no usable code;
the development echo; a code past its lifetime."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import httpx

from nudges_devstack.infra import free_port
from nudges_kit.settings import development_warpcache_token
from nudges_kit.warpcache import WarpCacheClient

if TYPE_CHECKING:
    from conftest import Stack

AppWith = Callable[..., Awaitable[httpx.AsyncClient]]


async def test_warpcache_down_is_a_503(stack: Stack, app_with: AppWith) -> None:
    client = await app_with(warpcache_url=f"127.0.0.1:{free_port()}", warpcache_timeout_seconds=0.5)
    answer = await client.post("/otp", json={"phone": stack.new_phone(), "role": "client"})
    assert answer.status_code == 503
    assert "WarpCache" in answer.json()["detail"]
    assert answer.headers["retry-after"]
    verify = await client.post(
        "/otp/verify", json={"phone": stack.new_phone(), "code": "123456", "role": "client"}
    )
    assert verify.status_code == 503
    session = await client.get("/session", headers={"Cookie": f"TokenId={'a' * 43}"})
    assert session.status_code == 503


async def test_kafka_down_is_a_503_and_leaves_no_code(stack: Stack, app_with: AppWith) -> None:
    client = await app_with(
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_publish_timeout_seconds=2,
        otp_echo=True,
    )
    phone = stack.new_phone()
    answer = await client.post("/otp", json={"phone": phone, "role": "client"})
    assert answer.status_code == 503
    assert "messaging is unavailable" in answer.json()["detail"]
    assert "code" not in answer.json()
    async with WarpCacheClient(stack.warpcache, token=development_warpcache_token("auth")) as cache:
        assert await cache.get(f"otp:client:{stack.vault.hash(phone)}") is None
    guess = await client.post(
        "/otp/verify", json={"phone": phone, "code": "000000", "role": "client"}
    )
    assert guess.status_code == 400


async def test_the_echo_shows_the_code_which_expires_with_its_ttl(
    stack: Stack, app_with: AppWith
) -> None:
    client = await app_with(otp_echo=True, otp_ttl_seconds=1)
    phone = stack.new_phone()
    after = stack.sms_count()
    answer = await client.post("/otp", json={"phone": phone, "role": "subscriber"})
    assert answer.status_code == 202
    body = answer.json()
    assert body["expires_in"] == 1
    assert re.fullmatch(r"\d{6}", body["code"])
    assert body["code"] == await stack.code_sent_to(phone, after)

    await asyncio.sleep(1.2)  # the code's TTL
    late = await client.post(
        "/otp/verify", json={"phone": phone, "code": body["code"], "role": "subscriber"}
    )
    assert late.status_code == 400
    assert "request a new code" in late.json()["detail"]
