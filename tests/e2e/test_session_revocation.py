"""Signing out reaches the gateway at once: after ``POST /auth/logout``, or after a reused
refresh token revokes its login, the access JWT that ``/auth/otp/verify`` gave is refused by
the gateway for the rest of its life, while other logins' tokens keep working. Real AuthApi,
UserApi, WarpCache, registry and gateway as processes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from nudges_devstack.infra import Postgres, TansuBroker
from nudges_devstack.platform import Platform

pytestmark = pytest.mark.slow

VIEWER = "{ viewer { __typename } }"
CREATE_CLIENT = (
    "mutation($n: String!, $s: String!) { createClient(input: {name: $n, slug: $s}) { id } }"
)


@dataclass(frozen=True)
class Login:
    access_token: str
    token_id: str
    refresh_token: str


@pytest.fixture(scope="module")
def sign_in_stack(
    postgres: Postgres, platform_broker: TansuBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    """What a sign-in and a viewer query go through, and nothing else."""
    running = Platform(
        postgres.url,
        platform_broker.bootstrap_servers,
        tmp_path_factory.mktemp("sign-in"),
        services=("warpcache", "localization", "registry", "user", "auth", "gateway"),
    )
    try:
        running.start()
        _wait_for_viewer(running)
        yield running
    finally:
        running.stop()


def _wait_for_viewer(platform: Platform, within: float = 60.0) -> None:
    """Until the gateway serves the user subgraph (it polls the registry)."""
    deadline = time.monotonic() + within
    while True:
        body = _viewer(platform, None)
        if body.get("data") == {"viewer": None}:
            return
        assert time.monotonic() < deadline, body
        time.sleep(0.5)


def _login(platform: Platform) -> Login:
    """A client signed in through ``/auth/otp/verify``, with a client page (so that the
    viewer query tells them from an anonymous caller)."""
    phone = f"+1415555{uuid.uuid4().int % 10_000:04d}"
    with httpx.Client(base_url=platform.url("auth"), timeout=20) as http:
        asked = http.post("/auth/otp", json={"phone": phone, "role": "client"})
        assert asked.status_code == 202, asked.text
        verified = http.post(
            "/auth/otp/verify",
            json={"phone": phone, "code": asked.json()["code"], "role": "client"},
        )
        assert verified.status_code == 200, verified.text
        body = verified.json()
    login = Login(body["access_token"], verified.cookies["TokenId"], body["refresh_token"])
    slug = f"revocation-{uuid.uuid4().hex[:10]}"
    created = _graph(platform, login.access_token, CREATE_CLIENT, n="Revocation", s=slug)
    assert not created.get("errors"), created
    return login


def _graph(platform: Platform, token: str | None, query: str, **variables: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        platform.url("gateway", "/graphql"),
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=20,
    )
    body: dict[str, Any] = response.json()
    return body


def _viewer(platform: Platform, token: str | None) -> dict[str, Any]:
    return _graph(platform, token, VIEWER)


def _assert_works(platform: Platform, token: str) -> None:
    body = _viewer(platform, token)
    assert not body.get("errors"), body
    assert body["data"]["viewer"] == {"__typename": "Client"}, body


def _assert_unauthenticated(platform: Platform, token: str) -> None:
    body = _viewer(platform, token)
    assert body.get("errors"), body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body


def test_logout_revokes_the_access_token_at_the_gateway(sign_in_stack: Platform) -> None:
    signed_out, other = _login(sign_in_stack), _login(sign_in_stack)
    _assert_works(sign_in_stack, signed_out.access_token)

    response = httpx.post(
        sign_in_stack.url("auth", "/auth/logout"),
        cookies={"TokenId": signed_out.token_id},
        json={"refresh_token": signed_out.refresh_token},
        timeout=20,
    )
    assert response.status_code == 204, response.text

    _assert_unauthenticated(sign_in_stack, signed_out.access_token)
    _assert_works(sign_in_stack, other.access_token)


def test_refresh_token_reuse_revokes_every_access_token_of_the_login(
    sign_in_stack: Platform,
) -> None:
    stolen, other = _login(sign_in_stack), _login(sign_in_stack)
    with httpx.Client(base_url=sign_in_stack.url("auth"), timeout=20) as http:
        rotated = http.post("/auth/refresh", json={"refresh_token": stolen.refresh_token})
        assert rotated.status_code == 200, rotated.text
        renewed = rotated.json()["access_token"]
        _assert_works(sign_in_stack, renewed)
        reused = http.post("/auth/refresh", json={"refresh_token": stolen.refresh_token})
        assert reused.status_code == 401, reused.text

    _assert_unauthenticated(sign_in_stack, stolen.access_token)
    _assert_unauthenticated(sign_in_stack, renewed)
    _assert_works(sign_in_stack, other.access_token)
