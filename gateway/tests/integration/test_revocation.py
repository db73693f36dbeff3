"""Revoked access tokens stop at the gateway: a bearer JWT or a session's JWT whose login
(``sid``) or own id (``jti``) AuthApi marked revoked in WarpCache is UNAUTHENTICATED and
reaches no subgraph, over HTTP and at a websocket's connection_init; WarpCache down is a 503,
never a pass."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import orjson
import pytest
from gateway_support import (
    Recorder,
    RunningGateway,
    mark_revoked,
    signed_jwt,
    start_gateway,
    store_session,
)
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from nudges_devstack.infra import free_port
from nudges_kit.sessions import revoked_login_key, revoked_token_key

QUERY = "{ reviews { stars } }"


def _token() -> tuple[str, str, str]:
    """A token of a fresh login: the JWT, its login id and its own id."""
    login, jti = uuid.uuid4().hex, uuid.uuid4().hex
    return signed_jwt("client-1", sid=login, jti=jti), login, jti


def _assert_refused(gateway: RunningGateway, **credentials: object) -> None:
    response = gateway.post(QUERY, **credentials)
    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("revoked", ["login", "token"])
def test_a_revoked_bearer_jwt_is_unauthenticated_and_reaches_no_subgraph(
    gateway: RunningGateway, warpcache_server: str, reset: dict[str, Recorder], revoked: str
) -> None:
    jwt, login, jti = _token()
    other, _, _ = _token()
    mark_revoked(
        warpcache_server, revoked_login_key(login) if revoked == "login" else revoked_token_key(jti)
    )
    _assert_refused(gateway, headers={"Authorization": f"Bearer {jwt}"})
    assert reset["reviews"].requests == []
    gateway.query(QUERY, headers={"Authorization": f"Bearer {other}"})
    assert [r["headers"].get("authorization") for r in reset["reviews"].requests] == [
        f"Bearer {other}"
    ]


def test_a_session_whose_jwt_was_revoked_is_unauthenticated(
    gateway: RunningGateway, warpcache_server: str, reset: dict[str, Recorder]
) -> None:
    jwt, login, _ = _token()
    session_id = f"session-{uuid.uuid4().hex}"
    store_session(warpcache_server, session_id, jwt)
    gateway.query(QUERY, cookies={"TokenId": session_id})
    mark_revoked(warpcache_server, revoked_login_key(login))
    _assert_refused(gateway, cookies={"TokenId": session_id})
    _assert_refused(gateway, headers={"Authorization": f"Bearer {session_id}"})
    assert len(reset["reviews"].requests) == 1


def test_a_revoked_or_expired_token_is_refused_at_connection_init(
    gateway: RunningGateway, warpcache_server: str
) -> None:
    jwt, login, _ = _token()
    mark_revoked(warpcache_server, revoked_login_key(login))
    url = gateway.url.replace("http://", "ws://")

    async def init(token: str) -> tuple[str, int | None]:
        async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            payload = {"Authorization": f"Bearer {token}"}
            await ws.send(orjson.dumps({"type": "connection_init", "payload": payload}).decode())
            try:
                return orjson.loads(await ws.recv())["type"], None
            except ConnectionClosed as closed:
                return "closed", closed.rcvd.code if closed.rcvd else None

    assert asyncio.run(init(jwt)) == ("closed", 4403)
    assert asyncio.run(init(_token()[0])) == ("connection_ack", None)
    # A token that does not verify is refused the same way, not taken for anonymous.
    assert asyncio.run(init(signed_jwt("client-1", ttl=-60))) == ("closed", 4403)


def test_warpcache_down_refuses_a_bearer_jwt_with_503(supergraph_sdl: str, tmp_path: Path) -> None:
    path = tmp_path / "supergraph.graphql"
    path.write_text(supergraph_sdl)
    gateway = start_gateway(path, warpcache_url=f"127.0.0.1:{free_port()}")
    try:
        response = gateway.post(QUERY, headers={"Authorization": f"Bearer {_token()[0]}"})
        assert response.status_code == 503
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    finally:
        gateway.served.stop()
