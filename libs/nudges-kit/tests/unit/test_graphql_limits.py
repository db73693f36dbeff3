"""Every subgraph mounted with ``mount_graphql`` refuses, before any resolver runs, what the
gateway refuses: too large, too deep, too many aliases, too costly, too many entities; and
stops an execution at its deadline. Over HTTP and over graphql-transport-ws alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import pytest
import strawberry
from fastapi import FastAPI
from graphql import get_introspection_query
from starlette.testclient import TestClient
from strawberry.federation import Schema

from nudges_kit.auth import JwtVerifier
from nudges_kit.graphql import Connection, Page, SubgraphLimits, mount_graphql
from nudges_kit.graphql_metrics import OperationMetrics
from nudges_kit.settings import NudgesSettings

RESOLVED: list[str] = []


@strawberry.federation.type(keys=["id"])
class Plan:
    id: strawberry.ID

    @strawberry.field
    def tiers(self, first: int | None = None) -> list[Tier]:
        RESOLVED.append("tiers")
        return [Tier(id=strawberry.ID(f"{self.id}-{n}"), plan_id=self.id) for n in range(3)]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Plan:
        RESOLVED.append("entity")
        return Plan(id=id)


@strawberry.type
class Tier:
    id: strawberry.ID
    plan_id: strawberry.Private[str]

    @strawberry.field
    def plan(self) -> Plan:
        RESOLVED.append("plan")
        return Plan(id=strawberry.ID(self.plan_id))


@strawberry.type
class Query:
    @strawberry.field
    def plans(self, first: int | None = None) -> Connection[Plan]:
        RESOLVED.append("plans")
        items = [Plan(id=strawberry.ID(str(n))) for n in range(min(first or 3, 3))]
        return Page(items, [str(p.id) for p in items], False, len(items)).connection()

    @strawberry.field
    async def slow(self) -> str:
        await asyncio.sleep(5)
        return "late"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def plan_updated(self) -> AsyncGenerator[Plan, None]:
        RESOLVED.append("subscription")
        yield Plan(id=strawberry.ID("1"))


def build_app(**settings: Any) -> FastAPI:
    schema = Schema(query=Query, subscription=Subscription, types=[Plan])
    app = FastAPI()
    verifier = JwtVerifier("http://127.0.0.1:9/jwks.json", "issuer", "nudges")
    mount_graphql(app, schema, NudgesSettings(**settings), verifier)
    return app


@pytest.fixture(autouse=True)
def _forget_resolved() -> None:
    RESOLVED.clear()


def deep_query(levels: int, tiers: str = "tiers") -> str:
    """``plans { nodes { tiers { plan { tiers { plan ... } } } } }``, ``levels`` deep."""
    fields = ["plans", "nodes"] + [tiers, "plan"] * levels
    fields = fields[: levels - 1]
    return "{ " + " { ".join(fields) + " { id" + " }" * len(fields) + " }"


def deep_query_with_fragments(levels: int) -> str:
    """The same depth, the nesting split over named fragments (two levels each)."""
    pairs = (levels - 3) // 2
    inner = [f"...P{n + 1}" for n in range(pairs - 1)] + ["id"]
    fragments = [
        f"fragment P{n} on Plan {{ tiers {{ plan {{ {inner[n]} }} }} }}" for n in range(pairs)
    ]
    body = "{ plans { nodes { ...P0 } } }"
    return body + "\n" + "\n".join(fragments)


async def post(app: FastAPI, query: str, **variables: Any) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://subgraph") as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return dict(response.json())


def code_of(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0].get("extensions", {}).get("code") if errors else None


async def test_the_deep_query_is_refused_before_any_resolver_runs() -> None:
    app = build_app()
    for query in (deep_query(43), deep_query_with_fragments(43)):
        body = await post(app, query)
        assert code_of(body) == "QUERY_TOO_DEEP", body
        assert body["errors"][0]["extensions"] == {
            "code": "QUERY_TOO_DEEP",
            "depth": 43,
            "limit": 15,
        }
        assert body.get("data") is None
    assert RESOLVED == []


async def test_depth_up_to_the_limit_is_answered() -> None:
    app = build_app()
    # One tier each, so that the cost stays low.
    assert "errors" not in await post(app, deep_query(15, "tiers(first: 1)"))
    assert code_of(await post(app, deep_query(16, "tiers(first: 1)"))) == "QUERY_TOO_DEEP"
    assert code_of(await post(build_app(max_depth=20), deep_query(16, "tiers(first: 1)"))) is None


async def test_aliases_over_the_limit_are_refused() -> None:
    app = build_app()
    thirty = " ".join(f"a{n}: plans {{ totalCount }}" for n in range(30))
    assert "errors" not in await post(app, "{ " + thirty + " }")
    body = await post(app, "{ " + thirty + " extra: plans { totalCount } }")
    assert body["errors"][0]["extensions"] == {
        "code": "TOO_MANY_ALIASES",
        "aliases": 31,
        "limit": 30,
    }
    # A fragment counts its aliases at each spread.
    sixteen = " ".join(f"b{n}: plans {{ totalCount }}" for n in range(16))
    twice = "{ ...F ... on Query { ...F } }\nfragment F on Query { " + sixteen + " }"
    assert code_of(await post(app, twice)) == "TOO_MANY_ALIASES"


async def test_the_aliases_the_gateway_adds_to_its_requests_do_not_count() -> None:
    # As the gateway's planner writes an entity fetch for a client who used 30 aliases.
    thirty = " ".join(f"a{n}: id" for n in range(30))
    fetch = (
        "query($r0: [_Any!]!, $r1: [_Any!]!) {"
        f" _e0: _entities(representations: $r0) {{ ... on Plan {{ _gw_id: id {thirty} }} }}"
        " _e1: _entities(representations: $r1) { ... on Plan { __typename } } }"
    )
    plan = [{"__typename": "Plan", "id": "1"}]
    body = await post(build_app(), fetch, r0=plan, r1=plan)
    assert "errors" not in body, body
    assert body["data"]["_e0"][0]["a29"] == "1"
    lookalikes = "{ " + " ".join(f"_e{n}: plans {{ totalCount }}" for n in range(31)) + " }"
    assert code_of(await post(build_app(), lookalikes)) == "TOO_MANY_ALIASES"


async def test_cost_counts_page_sizes_from_first_and_variables() -> None:
    app = build_app()
    # plans (1) + nodes: 100 x (1 + tiers: 100 x id) = 10 102
    costly = "{ plans(first: 100) { nodes { tiers(first: 100) { id } } } }"
    body = await post(app, costly)
    assert body["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": 10102,
        "limit": 10000,
    }
    with_variables = "query($n: Int) { plans(first: $n) { nodes { tiers(first: $n) { id } } } }"
    assert code_of(await post(app, with_variables, n=100)) == "QUERY_TOO_COMPLEX"
    assert "errors" not in await post(app, with_variables, n=10)
    defaulted = "query($n: Int = 100) { plans(first: $n) { nodes { tiers(first: $n) { id } } } }"
    assert code_of(await post(app, defaulted)) == "QUERY_TOO_COMPLEX"
    # Without first, a list is assumed to hold default_list_size items.
    unsized = "{ plans(first: 100) { nodes { tiers { id } } } }"
    assert "errors" not in await post(app, unsized)
    assert code_of(await post(build_app(default_list_size=100), unsized)) == "QUERY_TOO_COMPLEX"
    assert RESOLVED.count("plans") == 2


async def test_a_query_over_the_size_limit_is_refused_unparsed() -> None:
    app = build_app(max_query_bytes=1024)
    padded = "{ plans { totalCount } }" + " " * 1001
    body = await post(app, padded)
    assert body["errors"][0] == {
        "message": "the query is larger than 1024 bytes",
        "extensions": {"code": "QUERY_TOO_LARGE"},
    }
    # Counted in bytes, not characters.
    assert code_of(await post(app, "{ plans { totalCount } } # " + "é" * 500)) == "QUERY_TOO_LARGE"
    assert "errors" not in await post(app, "{ plans { totalCount } }")
    assert RESOLVED == ["plans"]


async def test_entities_representations_are_capped() -> None:
    app = build_app(max_entities=3)
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Plan { id } } }"
    few = [{"__typename": "Plan", "id": str(n)} for n in range(3)]
    body = await post(app, query, r=few)
    assert body == {"data": {"_entities": [{"id": "0"}, {"id": "1"}, {"id": "2"}]}}
    body = await post(app, query, r=[*few, {"__typename": "Plan", "id": "3"}])
    assert body["errors"][0]["extensions"] == {
        "code": "TOO_MANY_ENTITIES",
        "representations": 4,
        "limit": 3,
    }
    # Each representation is one object of the cost.
    costly = (
        "query($r: [_Any!]!) { _entities(representations: $r) "
        "{ ... on Plan { tiers(first: 100) { id } } } }"
    )
    reps = [{"__typename": "Plan", "id": str(n)} for n in range(100)]
    assert code_of(await post(build_app(), costly, r=reps)) == "QUERY_TOO_COMPLEX"
    assert RESOLVED.count("entity") == 3


async def test_an_execution_past_its_deadline_is_stopped() -> None:
    app = build_app(graphql_execution_timeout_seconds=0.2)
    started = asyncio.get_running_loop().time()
    body = await post(app, "{ slow }")
    assert asyncio.get_running_loop().time() - started < 4
    assert body["errors"][0] == {
        "message": "the operation did not complete within 0.2s",
        "extensions": {"code": "OPERATION_TIMEOUT"},
    }


async def test_introspection_and_the_federation_sdl_still_answer() -> None:
    app = build_app()
    sdl = await post(app, "{ _service { sdl } }")
    assert "type Plan" in sdl["data"]["_service"]["sdl"]
    full = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    introspection = await post(app, full)
    assert "errors" not in introspection
    assert introspection["data"]["__schema"]["queryType"]["name"] == "Query"
    # An introspection query that multiplies itself is refused by graphql-core's rule.
    nested = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    body = await post(app, nested)
    assert body["errors"][0]["message"] == "Maximum introspection depth exceeded"


async def test_a_fragment_cycle_is_refused_by_validation() -> None:
    cycle = "{ plans { nodes { ...A } } } fragment A on Plan { tiers { plan { ...A } } }"
    body = await post(build_app(), cycle)
    assert "Cannot spread fragment 'A' within itself." in body["errors"][0]["message"]


def test_get_requests_and_subscriptions_are_held_to_the_same_limits() -> None:
    app = build_app()
    with TestClient(app) as client:
        response = client.get("/graphql", params={"query": deep_query(43)})
        assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init"})
            assert ws.receive_json()["type"] == "connection_ack"
            nested = " { ".join(["tiers", "plan"] * 21) + " { id" + " }" * 42
            deep = "subscription { planUpdated { " + nested + " } }"
            ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": deep}})
            refused = ws.receive_json()
            assert refused["type"] == "error"
            assert refused["payload"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
            padded = "subscription { planUpdated { id } }" + " " * 70_000
            ws.send_json({"id": "2", "type": "subscribe", "payload": {"query": padded}})
            refused = ws.receive_json()
            assert refused["payload"][0]["extensions"]["code"] == "QUERY_TOO_LARGE"
            assert RESOLVED == []
            ok = "subscription { planUpdated { id tiers { id } } }"
            ws.send_json({"id": "3", "type": "subscribe", "payload": {"query": ok}})
            event = ws.receive_json()
            assert event["type"] == "next"
            assert event["payload"]["data"]["planUpdated"]["id"] == "1"


def test_mounting_adds_the_limits_once_and_first() -> None:
    schema = Schema(query=Query)
    verifier = JwtVerifier("http://127.0.0.1:9/jwks.json", "issuer", "nudges")
    for _ in range(2):
        mount_graphql(FastAPI(), schema, NudgesSettings(), verifier)
    # The operation metrics come once too, right after the limits.
    assert schema.extensions == (SubgraphLimits, OperationMetrics)


def test_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "MAX_DEPTH": "7",
        "MAX_ALIASES": "3",
        "MAX_COST": "99",
        "DEFAULT_LIST_SIZE": "4",
        "MAX_QUERY_BYTES": "2048",
        "MAX_ENTITIES": "12",
        "GRAPHQL_EXECUTION_TIMEOUT_SECONDS": "1.5",
    }.items():
        monkeypatch.setenv(name, value)
    settings = NudgesSettings()
    assert (
        settings.max_depth,
        settings.max_aliases,
        settings.max_cost,
        settings.default_list_size,
        settings.max_query_bytes,
        settings.max_entities,
        settings.graphql_execution_timeout_seconds,
    ) == (7, 3, 99, 4, 2048, 12, 1.5)


async def test_a_batch_is_refused() -> None:
    """Subgraphs take one operation per request: the gateway's MAX_BATCH has nothing to bound."""
    transport = httpx.ASGITransport(app=build_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://subgraph") as client:
        response = await client.post("/graphql", json=[{"query": "{ plans { totalCount } }"}] * 2)
    assert response.status_code == 400
    assert RESOLVED == []
