"""What a client gets when things go wrong: null bubbling with error paths, a stopped
subgraph (partial data), @inaccessible hidden, depth and cost limits, APQ, GET and batches."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from gateway_support import (
    Recorder,
    RunningGateway,
    Subgraph,
    compose_sdl,
    serve_subgraph,
    start_gateway,
)
from subgraphs import inventory


def test_an_error_in_a_nullable_field_leaves_the_rest(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    body = gateway.query("{ reviews { body flaky } }")
    assert body["data"]["reviews"][0] == {"body": "Sturdy", "flaky": None}  # type: ignore[index]
    paths = [e["path"] for e in body["errors"]]  # type: ignore[union-attr]
    assert ["reviews", 0, "flaky"] in paths
    assert body["errors"][0]["message"] == "review r1 is flaky"  # type: ignore[index]


def test_a_null_non_null_entity_field_bubbles_to_the_nullable_parent(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    body = gateway.query('{ product(upc: "p1") { name failing } reviews { stars } }')
    assert body["data"]["product"] is None  # type: ignore[index]
    assert body["data"]["reviews"][0] == {"stars": 5}  # type: ignore[index]
    assert body["errors"] == [  # type: ignore[comparison-overlap]
        {"message": "inventory cannot tell about S-1", "path": ["product", "failing"]}
    ] or body["errors"][0]["path"] == ["product", "failing"]  # type: ignore[index]


def test_a_stopped_subgraph_gives_partial_data_with_error_paths(
    subgraphs: dict[str, Subgraph], tmp_path: Path
) -> None:
    own_inventory = serve_subgraph("inventory")
    path = tmp_path / "supergraph.graphql"
    path.write_text(compose_sdl({**subgraphs, "inventory": own_inventory}))
    gateway = start_gateway(path)
    try:
        query = "{ topProducts { upc restockDate } }"
        assert gateway.query(query)["data"]["topProducts"][1] == {  # type: ignore[index]
            "upc": "p2",
            "restockDate": "2030-01-01",
        }
        own_inventory.served.stop()
        body = gateway.query(query)
        assert body["data"] == {  # type: ignore[comparison-overlap]
            "topProducts": [{"upc": u, "restockDate": None} for u in ("p1", "p2", "p3")]
        }
        errors = body["errors"]
        assert [e["path"] for e in errors] == [  # type: ignore[union-attr]
            ["topProducts", i, "restockDate"] for i in range(3)
        ]
        assert errors[0]["extensions"] == {  # type: ignore[index]
            "code": "SUBGRAPH_UNAVAILABLE",
            "serviceName": "inventory",
        }
        # a non-null field of the stopped subgraph nulls its nearest nullable parent
        body = gateway.query('{ product(upc: "p1") { name inStock } }')
        assert body["data"] == {"product": None}
        assert body["errors"][0]["path"] == ["product", "inStock"]  # type: ignore[index]
    finally:
        gateway.served.stop()
        own_inventory.served.stop()


def test_inaccessible_fields_are_hidden_and_refused(gateway: RunningGateway) -> None:
    body = gateway.query('{ __type(name: "Product") { fields { name } } }')
    names = {f["name"] for f in body["data"]["__type"]["fields"]}  # type: ignore[index]
    assert "internalCode" not in names
    assert {"upc", "name", "stock", "shippingEstimate", "reviews"} <= names
    schema = gateway.query("{ __schema { types { name } } }")["data"]["__schema"]  # type: ignore[index]
    assert not any(t["name"].startswith(("join__", "link__")) for t in schema["types"])
    refused = gateway.query('{ product(upc: "p1") { internalCode } }')
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # type: ignore[index]
    assert "internalCode" in refused["errors"][0]["message"]  # type: ignore[index]


def test_introspection_mixes_with_federated_fields(gateway: RunningGateway) -> None:
    body = gateway.query('{ __typename t: __type(name: "Review") { name } reviews { stars } }')
    assert body["data"]["__typename"] == "Query"  # type: ignore[index]
    assert body["data"]["t"] == {"name": "Review"}  # type: ignore[index]
    assert len(body["data"]["reviews"]) == 3  # type: ignore[index]


def test_depth_and_cost_limits(gateway: RunningGateway, reset: dict[str, Recorder]) -> None:
    deep = "{ " + "reviews { product { " * 4 + "reviews { body }" + " } }" * 4 + " }"
    body = gateway.query(deep)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"  # type: ignore[index]
    assert "10 levels deep" in body["errors"][0]["message"]  # type: ignore[index]
    costly = (
        "query($n: Int!) { topProducts(first: $n) { reviews { product { reviews { body } } } } }"
    )
    body = gateway.query(costly, {"n": 100})
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"  # type: ignore[index]
    assert "data" not in body
    assert gateway.query(costly, {"n": 2})["data"]  # same document, cheaper variables
    assert all(len(r.requests) <= 3 for r in reset.values())


def test_alias_and_batch_limits(gateway: RunningGateway) -> None:
    many = "{ " + " ".join(f"a{i}: reviews {{ stars }}" for i in range(31)) + " }"
    assert gateway.query(many)["errors"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"  # type: ignore[index]
    batch = [{"query": "{ __typename }"}] * 11
    response = httpx.post(gateway.url, json=batch)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BATCH_LIMIT_EXCEEDED"
    response = httpx.post(
        gateway.url, json=[{"query": "{ __typename }"}, {"query": "{ reviews { stars } }"}]
    )
    assert next(r["data"] for r in response.json()) == {"__typename": "Query"}


def test_automatic_persisted_queries(gateway: RunningGateway) -> None:
    query = "{ reviews { body } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    first = httpx.post(gateway.url, json={"extensions": extensions}).json()
    assert first["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    registered = httpx.post(gateway.url, json={"query": query, "extensions": extensions}).json()
    assert len(registered["data"]["reviews"]) == 3
    again = httpx.post(gateway.url, json={"extensions": extensions}).json()
    assert again == registered
    by_get = httpx.get(
        gateway.url,
        params={"extensions": f'{{"persistedQuery": {{"version": 1, "sha256Hash": "{digest}"}}}}'},
    )
    assert by_get.json() == registered
    wrong = httpx.post(gateway.url, json={"query": "{ __typename }", "extensions": extensions})
    assert wrong.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"


def test_get_serves_queries_but_not_mutations(gateway: RunningGateway) -> None:
    ok = httpx.get(
        gateway.url,
        params={
            "query": "query($u: String!) { product(upc: $u) { name } }",
            "variables": '{"u": "p2"}',
        },
    )
    assert ok.json() == {"data": {"product": {"name": "Chair"}}}
    refused = httpx.get(
        gateway.url, params={"query": 'mutation { setPrice(upc: "p1", price: 1) { price } }'}
    )
    assert refused.status_code == 405


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{ reviews { "}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            {
                "query": "query($n: Int!) { topProducts(first: $n) { upc } }",
                "variables": {"n": "x"},
            },
            "BAD_USER_INPUT",
        ),
        ({"query": "query A { __typename } query B { __typename }"}, "OPERATION_NAME_REQUIRED"),
    ],
)
def test_bad_requests_are_graphql_errors_with_codes(
    gateway: RunningGateway, body: dict[str, object], code: str
) -> None:
    answer = httpx.post(gateway.url, json=body).json()
    assert answer["errors"][0]["extensions"]["code"] == code
    assert "data" not in answer


def test_inventory_representations_are_deduplicated(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    inventory.SEEN.clear()
    gateway.query("{ a: topProducts { stock } b: topProducts { inStock } }")
    assert len(reset["inventory"].requests) == 1
    assert len(inventory.SEEN) == 3


def test_deadlines_per_subgraph_request_and_per_operation(
    supergraph_sdl: str, tmp_path: Path
) -> None:
    path = tmp_path / "supergraph.graphql"
    path.write_text(supergraph_sdl)
    short_requests = start_gateway(path, subgraph_timeout_seconds=0.3)
    short_operations = start_gateway(path, operation_timeout_seconds=0.3)
    try:
        body = short_requests.query("{ slow(seconds: 1) warehouses }")
        assert body["data"] is None  # slow is non-null: its null reaches the root
        assert body["errors"][0]["extensions"] == {  # type: ignore[index]
            "code": "SUBGRAPH_TIMEOUT",
            "serviceName": "reviews",
        }
        assert body["errors"][0]["path"] == ["slow"]  # type: ignore[index]
        response = short_operations.post("{ slow(seconds: 1) }")
        assert response.status_code == 504
        assert response.json()["errors"][0]["extensions"]["code"] == "GATEWAY_TIMEOUT"
    finally:
        short_requests.served.stop()
        short_operations.served.stop()
