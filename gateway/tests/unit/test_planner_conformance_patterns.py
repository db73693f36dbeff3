"""The planner on supergraphs the registry composes from the conformance corpus
(services/registry/tests/conformance/corpus): the patterns the differential test against
Apollo Gateway covers, checked here on the plan alone (no Node needed)."""

from __future__ import annotations

from pathlib import Path

from nudges_gateway.domain.prepare import Limits, prepare
from nudges_gateway.domain.supergraph import Supergraph
from nudges_registry.domain.composition import SubgraphSource, compose

CORPUS = Path(__file__).resolve().parents[3] / "services/registry/tests/conformance/corpus"


def supergraph(scenario: str) -> Supergraph:
    sources = [
        SubgraphSource(p.stem, f"http://{p.stem}.invalid/graphql", p.read_text())
        for p in sorted((CORPUS / scenario).glob("*.graphql"))
        if p.name != "operations.graphql"
    ]
    composition = compose(sources)
    assert composition.supergraph_sdl is not None, composition.errors
    return Supergraph(composition.supergraph_sdl)


def plan(scenario: str, query: str) -> list[tuple[int, str, str]]:
    prepared = prepare(supergraph(scenario), query, None, Limits())
    return [
        (int(str(d["level"])), str(d["subgraph"]), str(d["query"]))
        for d in prepared.plan.describe()
    ]


def test_a_shared_root_field_is_split_between_its_owners() -> None:
    steps = plan(
        "gateway-shared-root-split-owner",
        "{ product { name { brand } category { name } price { amount } } }",
    )
    assert sorted(steps) == [
        (0, "a", "query { product { name { brand } } }"),
        (0, "b", "query { product { category { name } } }"),
        (0, "c", "query { product { price { amount } } }"),
    ]


def test_a_shared_root_field_goes_where_it_takes_fewest_fetches() -> None:
    steps = plan("gateway-node-lookup", '{ node(id: "c1") { id ... on Chat { text } } }')
    assert [s[:2] for s in steps] == [(0, "b")]


def test_a_value_type_field_of_another_subgraph_is_asked_through_the_parent_entity() -> None:
    steps = plan("gateway-parent-entity-call", "{ products { id category { name details } } }")
    assert steps == [
        (0, "a", "query { products { id category { name } __typename } }"),
        (
            1,
            "b",
            "query($r1: [_Any!]!) { _e1: _entities(representations: $r1) "
            "{ ... on Product { category { details } } } }",
        ),
    ]


def test_requirements_running_in_circles_between_subgraphs() -> None:
    steps = plan("gateway-requires-circular", "{ product { total label } }")
    assert [s[:2] for s in steps] == [(0, "a"), (1, "b"), (2, "a")]
    assert "total" in steps[2][2]
    assert "discount" in steps[1][2]


def test_provides_on_a_fragment_provides_for_that_type_only() -> None:
    steps = plan(
        "gateway-provides-interface-field",
        "{ feed { id ... on Book { title } ... on Movie { title } } }",
    )
    assert steps[0][1] == "feed"
    assert "... on Book { id title }" in steps[0][2]
    assert "... on Movie { title }" not in steps[0][2]
    assert steps[1][1] == "catalog"
    assert "... on Movie { title }" in steps[1][2]


def test_the_real_type_of_an_interface_object_is_fetched() -> None:
    query = "{ topRated { __typename rating } }"
    steps = plan("gateway-interface-object-typename", query)
    assert [s[:2] for s in steps] == [(0, "ratings"), (1, "media")]
    assert "__typename" in steps[1][2]
    # A fetch of __typename alone is sent (not taken for one whose fields are all @skip-ped).
    prepared = prepare(supergraph("gateway-interface-object-typename"), query, None, Limits())
    owner = next(f for f in prepared.plan.fetches.values() if f.subgraph == "media")
    assert owner.selection.included({})
