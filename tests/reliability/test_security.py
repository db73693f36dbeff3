"""Security over the running platform: every root field under an authorization matrix,
tokens that must not be accepted, OTP brute force and rate limits under concurrency, and
subscriptions that must not take a subgraph's database pool."""

from __future__ import annotations

import ast
import asyncio
import base64
import hashlib
import hmac
import json
import random
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from graphql import parse
from graphql.language import ObjectTypeDefinitionNode, ObjectTypeExtensionNode
from reliability_support import (
    CREATE_CLIENT,
    client_ip,
    figure,
    gql,
    gql_body,
    login,
    mint_token,
    new_phone,
    signing_algorithm,
    signing_key,
    subscription,
)

from nudges_devstack.platform import Platform

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
SUBGRAPHS = ("user", "product", "payment")
#: A query each subgraph (and the gateway) answers only to an admin.
ADMIN_QUERIES = {
    "user": "{ userTotals { clients } }",
    "product": "{ allPlans { totalCount } }",
    "payment": "{ paymentTotals { confirmations } }",
    "gateway": "{ userTotals { clients } productTotals { activePlans } }",
}


# --- every root field has a row in its subgraph's authorization matrix ---------------------


def root_fields(sdl: str) -> set[str]:
    """The fields of Query, Mutation and Subscription in a subgraph's SDL (not ``_*``)."""
    fields: set[str] = set()
    for definition in parse(sdl).definitions:
        if (
            isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode)
            and definition.name.value in ("Query", "Mutation", "Subscription")
            and definition.fields
        ):
            fields |= {f.name.value for f in definition.fields if not f.name.value.startswith("_")}
    return fields


def matrix_rows(subgraph: str) -> tuple[set[str], set[str]]:
    """The root fields named by the rows of ``MATRIX`` in the subgraph's
    ``tests/integration/test_authorization.py`` (a row ``"client.stripeCustomerId"`` names
    ``client``), and those its ``COVERED_ELSEWHERE`` exempts; read, not imported."""
    source = ROOT / "services" / subgraph / "tests" / "integration" / "test_authorization.py"
    rows: set[str] = set()
    exempt: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if not isinstance(node, ast.Assign | ast.AnnAssign):
            continue
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        name = target.id if isinstance(target, ast.Name) else ""
        if name == "MATRIX" and isinstance(node.value, ast.List):
            for row in node.value.elts:
                if isinstance(row, ast.Tuple) and isinstance(row.elts[0], ast.Constant):
                    label = str(row.elts[0].value)
                    rows.add(label.split(" ")[0].split(".")[0].split("(")[0])
        elif name == "COVERED_ELSEWHERE" and isinstance(node.value, ast.Dict):
            exempt |= {str(k.value) for k in node.value.keys if isinstance(k, ast.Constant)}
    return rows, exempt


@pytest.mark.parametrize("subgraph", SUBGRAPHS)
def test_every_root_field_is_in_the_authorization_matrix(platform: Platform, subgraph: str) -> None:
    sdl = gql(platform, subgraph, None, "{ _service { sdl } }")["_service"]["sdl"]
    fields = root_fields(sdl)
    rows, exempt = matrix_rows(subgraph)

    assert fields, "the SDL has no root field"
    assert fields - rows == set(), (
        f"root fields of {subgraph} without a matrix row: {sorted(fields - rows)}"
        f" (named in COVERED_ELSEWHERE: {sorted((fields - rows) & exempt)})"
    )


# --- tokens that must be refused --------------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def bad_tokens(platform: Platform) -> dict[str, str]:
    """Admin tokens every service must refuse, by what is wrong with them."""
    kid, key = signing_key(platform)
    phone = new_phone()
    good = jwt.decode(mint_token(platform, phone, "admin"), options={"verify_signature": False})
    algorithm = signing_algorithm(key)
    other_key = (
        ed25519.Ed25519PrivateKey.generate()
        if algorithm == "EdDSA"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())

    def signed(claims: dict[str, Any], signer: Any = key, **header: Any) -> str:
        return jwt.encode(claims, signer, algorithm=algorithm, headers={"kid": kid, **header})

    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(good)}."
    hs_header = _b64({"alg": "HS256", "typ": "JWT", "kid": kid})
    hs_body = f"{hs_header}.{_b64(good)}"
    hs_mac = hmac.new(public_pem, hs_body.encode(), hashlib.sha256).digest()
    confused = f"{hs_body}.{base64.urlsafe_b64encode(hs_mac).rstrip(b'=').decode()}"
    return {
        "forged (another key, the real kid)": signed(good, other_key),
        "forged (unknown kid)": jwt.encode(
            good, other_key, algorithm=algorithm, headers={"kid": "not-a-key"}
        ),
        "expired": signed({**good, "iat": now - 3600, "exp": now - 600}),
        "not yet valid": signed({**good, "nbf": now + 600}),
        "wrong audience": signed({**good, "aud": "someone-else"}),
        "wrong issuer": signed({**good, "iss": "https://evil.example/auth"}),
        "no expiry": signed({k: v for k, v in good.items() if k != "exp"}),
        "alg=none": unsigned,
        "alg=none, no signature part": unsigned.rstrip("."),
        "HS256 keyed with the public key": confused,
        "tampered payload": ".".join(
            (
                signed(good).split(".")[0],
                _b64({**good, "roles": ["admin", "service"]}),
                signed(good).split(".")[2],
            )
        ),
        "garbage": "not.a.jwt",
    }


def test_bad_tokens_are_refused_by_the_gateway_every_subgraph_and_the_session_lookup(
    platform: Platform,
) -> None:
    tokens = bad_tokens(platform)
    control = mint_token(platform, new_phone(), "admin")
    for subgraph, query in ADMIN_QUERIES.items():
        assert not gql_body(platform, subgraph, control, query).get("errors"), subgraph

    refused: list[str] = []
    for what, token in tokens.items():
        for subgraph, query in ADMIN_QUERIES.items():
            if subgraph == "gateway" and what in NOT_A_JWT_FOR_THE_GATEWAY:
                continue  # test_a_bearer_that_is_no_jwt_nor_session_id_is_unauthenticated
            # The gateway answers a bad token with 401, as Apollo Router does; a subgraph
            # answers 200 with the error at the field that needed the caller.
            status = 401 if subgraph == "gateway" else 200
            body = gql_body(platform, subgraph, token, query, http_status=status)
            assert body.get("errors"), (what, subgraph, body)
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", (
                what,
                subgraph,
                body,
            )
            assert body.get("data") is None, (what, subgraph, body)
        session = httpx.get(
            platform.url("auth", "/auth/session"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert session.status_code == 401, (what, session.text)
        refresh = httpx.post(
            platform.url("auth", "/auth/refresh"), json={"refresh_token": token}, timeout=10
        )
        assert refresh.status_code == 401, (what, refresh.text)
        refused.append(what)
    figure(
        "tokens refused (gateway, 3 subgraphs, /auth/session, /auth/refresh)",
        f"{len(refused)} kinds: {', '.join(refused)}",
    )


#: Bad tokens the gateway takes for opaque session ids (they are no JWS: two parts, or three
#: whose header is not base64url JSON); an unknown session id is anonymous there.
NOT_A_JWT_FOR_THE_GATEWAY = {"alg=none, no signature part", "garbage"}


def test_a_bearer_that_is_no_jwt_nor_session_id_is_unauthenticated(platform: Platform) -> None:
    two_part = bad_tokens(platform)["alg=none, no signature part"]
    for bearer in (two_part, bad_tokens(platform)["garbage"], "x" * 2000):
        response = httpx.post(
            platform.url("gateway", "/graphql"),
            json={"query": ADMIN_QUERIES["gateway"]},
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- one-time codes -----------------------------------------------------------------------


def test_a_thousand_concurrent_guesses_get_at_most_five_comparisons(platform: Platform) -> None:
    phone, ip = new_phone(), client_ip()
    asked = httpx.post(
        platform.url("auth", "/auth/otp"),
        json={"phone": phone, "role": "client"},
        headers={"X-Forwarded-For": ip},
        timeout=10,
    )
    assert asked.status_code == 202, asked.text
    code = asked.json()["code"]
    guesses = random.sample([f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" != code], 1000)

    async def guess_all() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            return list(
                await asyncio.gather(
                    *(
                        http.post(
                            platform.url("auth", "/auth/otp/verify"),
                            json={"phone": phone, "code": guess, "role": "client"},
                            headers={"X-Forwarded-For": client_ip()},
                        )
                        for guess in guesses
                    )
                )
            )

    started = time.monotonic()
    answers = asyncio.run(guess_all())
    elapsed = time.monotonic() - started

    statuses = {r.status_code for r in answers}
    # A guess AuthApi sheds because its session store does not answer in time (503, with
    # Retry-After) compares nothing either; none may be accepted.
    shed = [r for r in answers if r.status_code == 503]
    assert all(r.headers.get("retry-after") for r in shed)
    answers = [r for r in answers if r.status_code != 503]
    details = [r.json()["detail"] for r in answers]
    compared = [d for d in details if d.startswith("wrong code")]
    assert statuses - {503} == {400}, statuses
    assert len(compared) <= 5, compared
    assert all(
        d.startswith(("wrong code", "too many attempts", "there is no valid code")) for d in details
    ), set(details)
    # The code is dead: even the right one is refused now, and a new one can be asked for.
    late = httpx.post(
        platform.url("auth", "/auth/otp/verify"),
        json={"phone": phone, "code": code, "role": "client"},
        headers={"X-Forwarded-For": ip},
        timeout=10,
    )
    assert late.status_code == 400, late.text
    assert login(platform, phone, "client").access_token
    figure(
        "OTP brute force: 1,000 concurrent guesses",
        f"{len(compared)} compared, {len(details) - len(compared)} refused unread,"
        f" {len(shed)} shed (503),"
        f" 0 accepted, {elapsed:.1f} s",
    )


async def _otp_burst(platform: Platform, requests: list[tuple[str, str]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=60) as http:
        return list(
            await asyncio.gather(
                *(
                    http.post(
                        platform.url("auth", "/auth/otp"),
                        json={"phone": phone, "role": "subscriber"},
                        headers={"X-Forwarded-For": ip},
                    )
                    for phone, ip in requests
                )
            )
        )


def _check_limited(answers: list[httpx.Response], allowed: int, window: int) -> None:
    accepted = [r for r in answers if r.status_code == 202]
    limited = [r for r in answers if r.status_code == 429]
    assert len(accepted) == allowed, [r.status_code for r in answers]
    assert len(limited) == len(answers) - allowed, [r.status_code for r in answers]
    for answer in limited:
        assert 0 < int(answer.headers["Retry-After"]) <= window, answer.headers
        assert "try again in" in answer.json()["detail"]


def test_rate_limits_hold_under_concurrency(platform: Platform) -> None:
    one_phone = new_phone()
    per_phone = asyncio.run(_otp_burst(platform, [(one_phone, client_ip()) for _ in range(50)]))
    _check_limited(per_phone, allowed=3, window=600)

    one_address = "192.0.2.20"  # TEST-NET-1: no other test calls from it
    per_address = asyncio.run(_otp_burst(platform, [(new_phone(), one_address) for _ in range(50)]))
    _check_limited(per_address, allowed=20, window=600)
    figure(
        "rate limits under 50 concurrent code requests",
        "per number 3 accepted / 47 x 429; per address 20 accepted / 30 x 429 (Retry-After set)",
    )


# --- subscriptions and the database pool -----------------------------------------------


def test_open_subscriptions_do_not_starve_the_subgraph(platform: Platform) -> None:
    token = mint_token(platform, new_phone(), "client")
    client = gql(
        platform, "user", token, CREATE_CLIENT, n="Many sockets", s=f"ws-{uuid.uuid4().hex[:8]}"
    )["createClient"]["id"]
    ws_url = platform.url("user", "/graphql").replace("http://", "ws://")
    query = "subscription($id: ID!) { clientUpdated(id: $id) { id } }"

    async def scenario() -> int:
        async with AsyncExitStack() as sockets:
            for _ in range(12):
                await sockets.enter_async_context(subscription(ws_url, token, query, id=client))
            await asyncio.sleep(1)
            async with httpx.AsyncClient(timeout=10) as http:
                try:
                    answer = await http.post(
                        platform.url("user", "/graphql"),
                        json={
                            "query": "query($id: ID!) { client(id: $id) { name } }",
                            "variables": {"id": client},
                        },
                        headers={"Authorization": f"Bearer {token}"},
                    )
                except httpx.TimeoutException:
                    return 0
                return answer.status_code

    assert asyncio.run(scenario()) == 200, "UserApi did not answer while 12 sockets were open"
