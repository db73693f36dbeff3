"""The planner over a hand-written supergraph (Apollo's join v0.3 format): which subgraph
answers what, at which level, and the text each request carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from nudges_gateway.domain.prepare import Limits, RequestError, prepare
from nudges_gateway.domain.supergraph import InvalidSupergraph, Supergraph

SHOP = Supergraph((Path(__file__).parent / "supergraphs" / "shop.graphql").read_text())


def plan(query: str) -> list[tuple[int, int, str, str]]:
    prepared = prepare(SHOP, query, None, Limits())
    return [
        (int(str(d["stage"])), int(str(d["level"])), str(d["subgraph"]), str(d["query"]))
        for d in prepared.plan.describe()
    ]


def test_reads_graphs_keys_and_placement() -> None:
    assert {n: g.url for n, g in SHOP.graphs.items()} == {
        "accounts": "http://accounts.invalid/graphql",
        "inventory": "http://inventory.invalid/graphql",
        "products": "http://products.invalid/graphql",
        "reviews": "http://reviews.invalid/graphql",
    }
    product = SHOP.types["Product"]
    assert product.keys == {
        "inventory": ["sku brand { id }"],
        "products": ["upc", "sku brand { id }"],
        "reviews": ["upc"],
    }
    assert product.fields["stock"].resolvers == ("inventory",)  # @override from products
    assert product.fields["name"].resolvers == ("products",)
    assert product.fields["name"].external_in == {"reviews"}
    assert product.fields["shippingEstimate"].requires == {"inventory": "weight"}
    assert SHOP.types["Media"].interface_object_in == {"reviews"}
    assert SHOP.possible_types_in("products", "SearchResult") == ("Book", "Movie")
    assert SHOP.possible_types_in("reviews", "SearchResult") == ("Review",)


def test_root_fields_go_to_their_subgraphs_in_parallel() -> None:
    steps = plan("{ me { name } topProducts { price } }")
    assert steps == [
        (0, 0, "accounts", "query { me { name } }"),
        (0, 0, "products", "query { topProducts { price } }"),
    ]


def test_entity_fetch_by_key_with_requires_and_arguments() -> None:
    steps = plan('{ topProducts { name shippingEstimate(zone: "eu") } }')
    assert steps == [
        (0, 0, "products", "query { topProducts { name __typename sku brand { id } weight } }"),
        (
            0,
            1,
            "inventory",
            "query($r1: [_Any!]!) { _e1: _entities(representations: $r1) { ... on Product "
            '{ shippingEstimate(zone: "eu") } } }',
        ),
    ]


def test_compound_key_reached_through_another_key() -> None:
    # reviews knows Product by upc only; inventory needs "sku brand { id }" from products
    steps = plan("{ latestReviews { product { stock } } }")
    assert [(s[1], s[2]) for s in steps] == [(0, "reviews"), (1, "products"), (2, "inventory")]
    assert "product { __typename upc }" in steps[0][3]
    assert "... on Product { sku brand { id } }" in steps[1][3]


def test_provides_keeps_the_field_in_the_providing_subgraph() -> None:
    assert plan("{ latestReviews { product { name } } }") == [
        (0, 0, "reviews", "query { latestReviews { product { name } } }")
    ]
    # outside the providing path, the external field comes from its owner
    steps = plan("{ me { reviews { product { price name } } } }")
    assert [s[2] for s in steps] == ["accounts", "reviews", "products"]
    assert "product { name __typename upc }" in steps[1][3]


def test_entity_fetches_of_one_level_share_one_request_per_subgraph() -> None:
    steps = plan("{ latestReviews { author { name } product { price } } me { name } }")
    levels = [(s[1], s[2]) for s in steps]
    assert levels == [(0, "reviews"), (0, "accounts"), (1, "accounts"), (1, "products")]


def test_interface_object_fields_are_fetched_as_the_interface() -> None:
    steps = plan("{ media { __typename title rating ... on Book { pages } } }")
    assert steps[0] == (
        0,
        0,
        "products",
        "query { media { __typename ... on Book { title pages __typename id } "
        "... on Movie { title __typename id } } }",
    )
    assert steps[1] == (
        0,
        1,
        "reviews",
        "query($r1: [_Any!]!) { _e1: _entities(representations: $r1) { ... on Media { rating } } }",
    )


def test_union_members_are_expanded_per_subgraph() -> None:
    steps = plan(
        '{ search(term: "a") { __typename ... on Book { pages } ... on Review { body } } }'
    )
    # products resolves search and only knows Book and Movie of the union
    assert steps == [
        (0, 0, "products", 'query { search(term: "a") { __typename ... on Book { pages } } }')
    ]


def test_mutations_run_in_stages_in_order() -> None:
    steps = plan(
        'mutation { login(name: "a") { name } setPrice(upc: "1", price: 2) { stock } logout }'
    )
    assert [(s[0], s[1], s[2]) for s in steps] == [
        (0, 0, "accounts"),
        (1, 0, "products"),
        (1, 1, "inventory"),
        (2, 0, "accounts"),
    ]
    assert steps[0][3] == 'mutation { login(name: "a") { name } }'


def test_variables_and_conditions_are_forwarded() -> None:
    steps = plan(
        "query Q($n: Int, $z: String, $s: Boolean!) { topProducts(first: $n) "
        "{ price @skip(if: $s) shippingEstimate(zone: $z) } }"
    )
    assert steps[0][3] == (
        "query Q__products__0($n: Int, $s: Boolean!) { topProducts(first: $n) "
        "{ price @skip(if: $s) __typename sku brand { id } weight } }"
    )
    assert steps[1][3].startswith("query Q__inventory__1($r1: [_Any!]!, $z: String)")


def test_inaccessible_fields_are_not_in_the_api_schema() -> None:
    product = SHOP.api_schema.get_type("Product")
    assert "costPrice" not in product.fields  # type: ignore[union-attr]
    assert "costPrice" in SHOP.schema.get_type("Product").fields  # type: ignore[union-attr]
    with pytest.raises(RequestError) as refused:
        prepare(SHOP, "{ topProducts { costPrice } }", None, Limits())
    assert refused.value.errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_not_a_supergraph_is_refused() -> None:
    with pytest.raises(InvalidSupergraph):
        Supergraph("type Query { a: Int }")
    with pytest.raises(InvalidSupergraph):
        Supergraph("type Query {")


def test_limits() -> None:
    with pytest.raises(RequestError) as deep:
        prepare(
            SHOP, "{ me { reviews { author { reviews { body } } } } }", None, Limits(max_depth=3)
        )
    assert deep.value.errors[0]["extensions"] == {"code": "QUERY_TOO_DEEP", "depth": 5, "limit": 3}


def test_a_fetch_extended_for_a_key_is_waited_for() -> None:
    # products is already asked for price; the same request is extended with the key that
    # inventory needs, so inventory's fetch must come one level later.
    steps = plan("{ latestReviews { product { price stock } } }")
    assert [(s[1], s[2]) for s in steps] == [(0, "reviews"), (1, "products"), (2, "inventory")]
    assert "... on Product { price sku brand { id } }" in steps[1][3]


def test_plans_are_cached_per_document_and_operation() -> None:
    from nudges_gateway.domain.prepare import PlanCache

    cache = PlanCache(size=2)
    first = cache.get_or_prepare(SHOP, "{ me { name } }", None, Limits())
    assert cache.get_or_prepare(SHOP, "{ me { name } }", None, Limits()) is first
    with pytest.raises(RequestError):
        cache.get_or_prepare(SHOP, "{ nope }", None, Limits())
    with pytest.raises(RequestError):
        cache.get_or_prepare(SHOP, "{ nope }", None, Limits())
    assert (cache.hits, cache.misses) == (2, 2)


def test_a_used_overridden_field_is_not_resolved_by_the_overridden_subgraph() -> None:
    sdl = (Path(__file__).parent / "supergraphs" / "shop.graphql").read_text()
    sdl = sdl.replace(
        "price: Int @join__field(graph: PRODUCTS)",
        "price: Int @join__field(graph: PRODUCTS, usedOverridden: true) "
        '@join__field(graph: INVENTORY, override: "products")',
    )
    shop = Supergraph(sdl)
    assert shop.types["Product"].fields["price"].resolvers == ("inventory",)
    steps = [
        d["subgraph"]
        for d in prepare(shop, "{ topProducts { price } }", None, Limits()).plan.describe()
    ]
    assert steps == ["products", "inventory"]
