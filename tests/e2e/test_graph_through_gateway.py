"""The Nudges graph end to end through the gateway: subgraphs register with the registry,
the gateway composes them, and one query spans user, product and payment."""

from __future__ import annotations

import time
from typing import Any

import httpx
import psycopg
import pytest

from nudges_devstack.platform import Platform
from nudges_kit.auth import user_id_for
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings, with_database

pytestmark = pytest.mark.slow


def _graph(platform: Platform, query: str, token: str | None = None, **variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        platform.url("gateway", "/graphql"),
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=20,
    )
    return response.json()


def test_the_composed_graph_serves_every_subgraph(platform: Platform) -> None:
    deadline = time.monotonic() + 60
    while True:
        sdl = httpx.get(platform.url("registry", "/supergraph")).json()
        names = str(sdl)
        if all(f'name: "{n}"' in names for n in ("user", "product", "payment")):
            break
        assert time.monotonic() < deadline, names[:500]
        time.sleep(0.5)
    time.sleep(2)  # the gateway polls the registry every second
    plans = _graph(platform, "{ plans { nodes { id name tiers { name amount } } } }")
    assert "errors" not in plans, plans
    anonymous = _graph(platform, '{ viewer { __typename } clientBySlug(slug: "nobody") { id } }')
    assert anonymous["data"] == {"viewer": None, "clientBySlug": None}
    typename = _graph(platform, "{ __schema { queryType { fields { name } } } }")
    fields = {f["name"] for f in typename["data"]["__schema"]["queryType"]["fields"]}
    assert {"viewer", "plans", "clientBySlug", "paymentConfirmations"} <= fields
    assert "_entities" not in fields
    # Fields meant for services are not part of the public graph.
    assert fields.isdisjoint({"phoneIdentity", "contact", "announcementRecipients"})


def _login(platform: Platform, phone: str, role: str) -> str:
    with httpx.Client(base_url=platform.url("auth"), timeout=10) as http:
        asked = http.post("/auth/otp", json={"phone": phone, "role": role})
        assert asked.status_code == 202, asked.text
        code = asked.json()["code"]
        verified = http.post("/auth/otp/verify", json={"phone": phone, "code": code, "role": role})
        assert verified.status_code == 200, verified.text
        return str(verified.json()["access_token"])


def _make_admin(platform: Platform, phone: str) -> None:
    settings = NudgesSettings()
    vault = PhoneVault(
        settings.phone_encryption_key.get_secret_value(), settings.phone_hash_key.get_secret_value()
    )
    user_id = user_id_for(vault.hash(phone))
    with psycopg.connect(with_database(platform.postgres_url, platform.databases["user"])) as conn:
        conn.execute(
            "INSERT INTO users (id, phone_hash, phone_ciphertext) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (user_id, vault.hash(phone), vault.encrypt(phone)),
        )
        conn.execute("INSERT INTO admins (user_id) VALUES (%s) ON CONFLICT DO NOTHING", (user_id,))


def test_an_admin_sees_each_subscribers_client_through_the_gateway(platform: Platform) -> None:
    owner = _login(platform, "+14155550121", "client")
    made = _graph(
        platform, 'mutation { createClient(input: {name: "Gateway Choir"}) { id slug } }', owner
    )
    assert "errors" not in made, made
    client = made["data"]["createClient"]
    fan = _login(platform, "+14155550122", "subscriber")
    joined = _graph(
        platform, "mutation($s: String!) { joinClient(slug: $s) { id } }", fan, s=client["slug"]
    )
    assert "errors" not in joined, joined
    _make_admin(platform, "+14155550123")
    admin = _login(platform, "+14155550123", "admin")
    query = (
        "{ subscribers(first: 3) { totalCount"
        " nodes { id status client { id name } subscriber { id } } } }"
    )
    seen = _graph(platform, query, admin)
    assert "errors" not in seen, seen
    nodes = seen["data"]["subscribers"]["nodes"]
    assert {"id": client["id"], "name": "Gateway Choir"} in [n["client"] for n in nodes]
    assert all(n["client"] is not None for n in nodes)
    assert _graph(platform, query, owner)["data"]["subscribers"]["nodes"] == [
        n for n in nodes if n["client"]["id"] == client["id"]
    ]
