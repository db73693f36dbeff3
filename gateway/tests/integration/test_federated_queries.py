"""Queries across three real subgraphs through the gateway over HTTP: entity batching per
level, keys (compound and several), @requires, @provides, @override, interfaces and unions
spread over subgraphs, @interfaceObject, fragments, aliases, variables, @skip/@include."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway_support import Recorder, RunningGateway, Subgraph, start_gateway
from subgraphs import inventory


def data_of(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body["errors"]
    return body["data"]


def test_entities_are_fetched_once_per_subgraph_and_level(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    body = gateway.query(
        """{ topProducts { upc name stock shippingEstimate(zone: "europe")
             reviews { body product { name price } } } }"""
    )
    products = data_of(body)["topProducts"]
    assert [p["upc"] for p in products] == ["p1", "p2", "p3"]
    assert products[0]["stock"] == 3  # inventory's (@override), not the -1 of products
    assert products[0]["shippingEstimate"] == 30  # weight 10 x europe 3 (@requires)
    assert products[0]["reviews"] == [
        {"body": "Sturdy", "product": {"name": "Table", "price": 899}},
        {"body": "Wobbly", "product": {"name": "Table", "price": 899}},
    ]
    assert products[2]["reviews"] == []
    assert len(reset["inventory"].requests) == 1
    assert len(reset["reviews"].requests) == 1
    # products: the root request, then one _entities request for the second level, with
    # each product represented once although two reviews point at p1
    assert len(reset["products"].requests) == 2
    sent = reset["products"].requests[1]["body"]["variables"]
    assert sorted(r["upc"] for reps in sent.values() for r in reps) == ["p1", "p2"]


def test_requires_passes_the_required_field_in_the_representation(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    inventory.SEEN.clear()
    body = gateway.query('{ product(upc: "p2") { shippingEstimate(zone: "world") } }')
    assert data_of(body) == {"product": {"shippingEstimate": 20}}
    assert inventory.SEEN == [{"sku": "S-2", "brand": "acme", "weight": 4}]


def test_provided_fields_come_from_the_providing_subgraph(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    body = gateway.query("{ reviews { body product { name } } }")
    assert data_of(body)["reviews"][0] == {"body": "Sturdy", "product": {"name": "Table"}}
    assert len(reset["reviews"].requests) == 1
    assert reset["products"].requests == []


def test_a_compound_key_is_obtained_through_another_key(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    # reviews knows products by upc; inventory by "sku brand", which products gives.
    body = gateway.query("{ reviews { product { upc inStock } } }")
    assert [r["product"] for r in data_of(body)["reviews"]] == [
        {"upc": "p1", "inStock": True},
        {"upc": "p1", "inStock": True},
        {"upc": "p2", "inStock": False},
    ]
    assert [len(reset[n].requests) for n in ("reviews", "products", "inventory")] == [1, 1, 1]
    sent = reset["inventory"].requests[0]["body"]["variables"]
    reps = [r for reps in sent.values() for r in reps]
    assert reps == [
        {"__typename": "Product", "sku": "S-1", "brand": "acme"},
        {"__typename": "Product", "sku": "S-2", "brand": "acme"},
    ]


def test_interfaces_unions_and_interface_objects_across_subgraphs(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    body = gateway.query(
        """{ media { __typename id title rating ... on Book { pages } ... on Movie { minutes } }
             search(term: "i") { __typename ... on Movie { title rating } ... on Book { pages } }
             reviewSearch(stars: 5) { __typename ... on Review { body } } }"""
    )
    data = data_of(body)
    assert data["media"] == [
        {"__typename": "Book", "id": "b1", "title": "Dune", "rating": 5, "pages": 412},
        {"__typename": "Movie", "id": "m1", "title": "Alien", "rating": 5, "minutes": 117},
    ]
    assert data["search"] == [{"__typename": "Movie", "title": "Alien", "rating": 5}]
    assert data["reviewSearch"] == [{"__typename": "Review", "body": "Sturdy"}]
    # the ratings of both levels' media travel in one request to reviews, typed as Media
    ratings = [r for r in reset["reviews"].requests if "_entities" in r["body"]["query"]]
    assert len(ratings) == 1
    reps = [r for reps in ratings[0]["body"]["variables"].values() for r in reps]
    assert {r["__typename"] for r in reps} == {"Media"}


def test_fragments_aliases_variables_and_conditions(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    query = """
      query Shop($upc: String!, $withReviews: Boolean!, $hidePrice: Boolean!) {
        first: product(upc: $upc) { ...Card reviews @include(if: $withReviews) { stars } }
        second: product(upc: "p3") { ... on Product { label: name } ...Card }
      }
      fragment Card on Product { name price @skip(if: $hidePrice) stock }
    """
    body = gateway.query(query, {"upc": "p1", "withReviews": True, "hidePrice": False})
    assert data_of(body) == {
        "first": {
            "name": "Table",
            "price": 899,
            "stock": 3,
            "reviews": [{"stars": 5}, {"stars": 2}],
        },
        "second": {"label": "Lamp", "name": "Lamp", "price": 45, "stock": 12},
    }
    body = gateway.query(query, {"upc": "p2", "withReviews": False, "hidePrice": True})
    assert data_of(body) == {
        "first": {"name": "Chair", "stock": 0},
        "second": {"label": "Lamp", "name": "Lamp", "stock": 12},
    }


def test_an_alias_taking_a_key_fields_name(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    body = gateway.query('{ product(upc: "p1") { upc: name stock } }')
    assert data_of(body) == {"product": {"upc": "Table", "stock": 3}}


def test_mutations_run_in_order_and_their_results_join_other_subgraphs(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    body = gateway.query(
        """mutation { a: setPrice(upc: "p3", price: 50) { price stock }
                      b: setPrice(upc: "p3", price: 45) { price } }"""
    )
    assert data_of(body) == {"a": {"price": 50, "stock": 12}, "b": {"price": 45}}


def test_typename_at_the_root_is_answered_by_the_gateway(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    assert data_of(gateway.query("{ __typename }")) == {"__typename": "Query"}
    assert all(not r.requests for r in reset.values())


def test_serves_a_supergraph_composed_by_apollo(
    gateway: RunningGateway, subgraphs: dict[str, Subgraph], tmp_path: Path
) -> None:
    """The same subgraphs composed by @apollo/composition 2.14.4 (the fixture, URLs put in
    place): the gateway answers as it does with GraphMonitor's composition."""
    sdl = (
        Path(__file__).parent.parent / "unit" / "supergraphs" / "apollo_composed.graphql"
    ).read_text()
    for name, subgraph in subgraphs.items():
        sdl = sdl.replace(f"http://{name}.invalid/graphql", subgraph.url)
    path = tmp_path / "apollo.graphql"
    path.write_text(sdl)
    apollo_composed = start_gateway(path)
    try:
        query = """{ topProducts { upc name stock shippingEstimate
                                   reviews { body product { name } } }
                     media { __typename title rating } }"""
        expected = gateway.query(query)
        assert "errors" not in expected
        assert apollo_composed.query(query) == expected
    finally:
        apollo_composed.served.stop()


def test_an_interface_object_gets_its_real_type_from_the_owner(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    # reviews returns Media as an @interfaceObject: products (owning the interface) tells
    # the real type and the fields of the implementations.
    body = gateway.query(
        "{ topRated { __typename id rating title ... on Book { pages } ... on Movie { minutes } } }"
    )
    assert data_of(body)["topRated"] == [
        {"__typename": "Movie", "id": "m1", "rating": 5, "title": "Alien", "minutes": 117},
        {"__typename": "Book", "id": "b1", "rating": 5, "title": "Dune", "pages": 412},
    ]
    assert [len(reset[n].requests) for n in ("reviews", "products")] == [1, 1]
    reps = reset["products"].requests[0]["body"]["variables"]
    assert [r for rs in reps.values() for r in rs] == [
        {"__typename": "Media", "id": "m1"},
        {"__typename": "Media", "id": "b1"},
    ]


def test_an_entity_fetch_skipped_by_the_variables_is_not_sent(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    query = "query($stock: Boolean!) { topProducts { name stock @include(if: $stock) } }"
    assert data_of(gateway.query(query, {"stock": False}))["topProducts"][0] == {"name": "Table"}
    assert reset["inventory"].requests == []
    assert data_of(gateway.query(query, {"stock": True}))["topProducts"][0]["stock"] == 3
    assert len(reset["inventory"].requests) == 1
    defaulted = "query($stock: Boolean = true) { topProducts { stock @include(if: $stock) } }"
    assert data_of(gateway.query(defaulted))["topProducts"][0] == {"stock": 3}
    assert len(reset["inventory"].requests) == 2
