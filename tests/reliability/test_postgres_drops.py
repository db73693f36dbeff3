"""Every connection of a service's database terminated by the server
(``pg_terminate_backend``, as a failover or an administrator does): the pools recover, the
next requests succeed, and the outbox relays publish again."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import psycopg
import pytest
from reliability_support import (
    CLIENT_SYNC,
    CREATE_CLIENT,
    CREATE_PLAN,
    PLAN_SYNC,
    Login,
    Subscription,
    database_url,
    eventually,
    figure,
    gql,
    gql_body,
    login,
    new_phone,
    sql,
    subscription,
)

from nudges_devstack.platform import Platform
from nudges_kit.outbox import RELAY_LOCK_KEY

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

DATABASES = ("user", "product", "payment", "consumers")


def terminate_connections(platform: Platform, service: str) -> int:
    """Terminate every other session of ``service``'s database; how many there were."""
    with psycopg.connect(database_url(platform, "user").rsplit("/", 1)[0] + "/postgres") as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (platform.databases[service],),
        ).fetchall()
    return len(rows)


def _relay_holds_lock(platform: Platform, service: str) -> bool:
    rows = sql(
        platform,
        service,
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
        " WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
        " AND ((l.classid::bigint << 32) | l.objid::bigint) = %s",
        RELAY_LOCK_KEY,
    )
    return bool(rows[0][0])


QUERIES = {
    "user": "{ userTotals { clients } }",
    "product": "{ allPlans { totalCount } }",
    "payment": "{ paymentTotals { confirmations } }",
}


def test_pools_recover_and_relays_resume_after_every_connection_is_terminated(
    platform: Platform, admin: Login
) -> None:
    for subgraph, query in QUERIES.items():
        gql(platform, subgraph, admin.access_token, query)
    owner = login(platform, new_phone(), "client")

    terminated = {service: terminate_connections(platform, service) for service in DATABASES}
    assert all(count > 0 for count in terminated.values()), terminated

    # The very next request on each subgraph succeeds: no 500, no error.
    started = time.monotonic()
    for subgraph, query in QUERIES.items():
        body = gql_body(platform, subgraph, admin.access_token, query)
        assert not body.get("errors"), (subgraph, body)
    first_requests = time.monotonic() - started
    client = gql(
        platform,
        "user",
        owner.access_token,
        CREATE_CLIENT,
        n="After the drop",
        s=f"drop-{uuid.uuid4().hex[:10]}",
    )["createClient"]["id"]
    plan = gql(platform, "product", admin.access_token, CREATE_PLAN, n=f"Drop {uuid.uuid4()}")
    plan_id = plan["createPlan"]["id"]

    # The relays publish again, and the consumers record what they handle.
    eventually(
        lambda: gql(platform, "product", admin.access_token, PLAN_SYNC, id=plan_id)["plan"][
            "stripeProductId"
        ],
        within=60,
    )
    eventually(
        lambda: gql(platform, "user", admin.access_token, CLIENT_SYNC, id=client)["client"][
            "stripeCustomerId"
        ],
        within=60,
    )
    resumed = time.monotonic() - started
    for service in ("user", "product", "payment"):
        assert _ready(platform, service)
    figure(
        "postgres drop: sessions terminated",
        ", ".join(f"{s} {n}" for s, n in terminated.items()),
    )
    figure("postgres drop: first request on each subgraph", f"{first_requests * 1000:.0f} ms")
    figure("postgres drop: events flowing again", f"{resumed:.1f} s")


def _ready(platform: Platform, service: str) -> bool:
    import httpx

    return httpx.get(platform.url(service, "/readyz"), timeout=5).status_code == 200


def test_a_relay_that_lost_its_lock_stops_publishing(platform: Platform, admin: Login) -> None:
    # Another replica takes the lock as soon as the relay's session is gone; this session
    # stands in for it.
    with psycopg.connect(database_url(platform, "product"), autocommit=True) as other_leader:
        for _ in range(5):
            other_leader.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            row = other_leader.execute(
                "SELECT pg_try_advisory_lock(%s)", (RELAY_LOCK_KEY,)
            ).fetchone()
            if row is not None and row[0]:
                break
        else:
            raise AssertionError("the relay took its lock back before the stand-in could")
        plan = gql(platform, "product", admin.access_token, CREATE_PLAN, n=f"Lock {uuid.uuid4()}")
        plan_id = plan["createPlan"]["id"]
        time.sleep(3)
        published = sql(
            platform,
            "product",
            "SELECT count(*) FROM outbox WHERE key = %s AND published_at IS NOT NULL",
            plan_id,
        )
        other_leader.execute("SELECT pg_advisory_unlock(%s)", (RELAY_LOCK_KEY,))
    assert published == [(0,)], "published by a relay that no longer holds the lock"
    # With the lock free again, the relay publishes the plan's event.
    eventually(lambda: _relay_holds_lock(platform, "product"), within=20)


def test_a_user_subscription_survives_a_dropped_connection(platform: Platform) -> None:
    owner = login(platform, new_phone(), "client")
    client = gql(
        platform,
        "user",
        owner.access_token,
        CREATE_CLIENT,
        n="Listening club",
        s=f"listen-{uuid.uuid4().hex[:10]}",
    )["createClient"]["id"]
    update = "mutation($id: ID!, $n: String!) { updateClient(id: $id, input: {name: $n}) { id } }"
    query = "subscription($id: ID!) { clientUpdated(id: $id) { id name } }"
    ws_url = platform.url("user", "/graphql").replace("http://", "ws://")

    async def scenario() -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        async with subscription(ws_url, owner.access_token, query, id=client) as updates:
            await asyncio.sleep(0.5)
            await asyncio.to_thread(
                gql, platform, "user", owner.access_token, update, id=client, n="Before"
            )
            before = await _push_naming(updates, "Before", within=10)
            await asyncio.to_thread(terminate_connections, platform, "user")
            await asyncio.sleep(1)
            await asyncio.to_thread(
                gql, platform, "user", owner.access_token, update, id=client, n="After"
            )
            after = await _push_naming(updates, "After", within=10)
            return before, after

    before, after = asyncio.run(scenario())

    assert before is not None, "no update before the drop"
    assert after is not None, "the subscription went silent after the connection drop"
    assert after == {"data": {"clientUpdated": {"id": client, "name": "After"}}}, after


async def _push_naming(updates: Subscription, name: str, within: float) -> dict[str, Any] | None:
    """The first clientUpdated push carrying ``name``, or None when none came ``within``
    seconds; other pushes (the Stripe customer sync also changes the client) are skipped."""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        payload = await updates.next(within=left)
        if payload is None:
            return None
        client = (payload.get("data") or {}).get("clientUpdated") or {}
        if client.get("name") == name:
            return payload
    return None
