"""@defer in the operation model: which fragments are deferred (the outermost, and those
whose `if` holds), and the initial part left without them."""

from __future__ import annotations

from pathlib import Path

from nudges_gateway.domain.defer import deferred_fragments, without
from nudges_gateway.domain.operation import FieldSel, FragmentSel, iter_fields
from nudges_gateway.domain.prepare import Limits, prepare
from nudges_gateway.domain.supergraph import Supergraph

SHOP = Supergraph((Path(__file__).parent / "supergraphs" / "shop.graphql").read_text())


def items_of(query: str) -> tuple[FieldSel | FragmentSel, ...]:
    return prepare(SHOP, query, None, Limits()).plan.operation.items


def names(items: tuple[FieldSel | FragmentSel, ...]) -> list[str]:
    found = []
    for f in iter_fields(items):
        found.append(f.name)
        found += [f"{f.name}.{n}" for n in names(f.items)]
    return found


def test_the_outermost_deferred_fragments_are_found() -> None:
    items = items_of('{ topProducts { upc ... @defer(label: "a") { name ... @defer { price } } } }')
    deferred = deferred_fragments(items, {})
    assert len(deferred) == 1
    assert names(without(items, deferred)) == ["topProducts", "topProducts.upc"]


def test_a_defer_whose_if_is_false_is_not_deferred() -> None:
    query = "query($d: Boolean!) { topProducts { upc ... @defer(if: $d) { name } } }"
    items = items_of(query)
    assert deferred_fragments(items, {"d": False}) == frozenset()
    assert len(deferred_fragments(items, {"d": True})) == 1
    assert deferred_fragments(
        items_of("{ topProducts { ... @defer(if: false) { upc } } }"), {}
    ) == (frozenset())


def test_a_selection_left_empty_keeps_its_object() -> None:
    items = items_of("{ topProducts { ... @defer { name } } }")
    assert names(without(items, deferred_fragments(items, {}))) == [
        "topProducts",
        "topProducts.__typename",
    ]


def test_the_initial_part_waits_for_the_requests_that_answer_it() -> None:
    prepared = prepare(
        SHOP, "{ topProducts { upc ... @defer { stock reviews { body } } } }", None, Limits()
    )
    plan = prepared.plan
    deferred = deferred_fragments(plan.operation.items, {})
    needed = prepared.initial_requests(deferred)
    by_subgraph = {
        batch.subgraph: id(batch)
        for stage in plan.stages
        for batch in [*stage.roots, *(b for level in stage.levels for b in level)]
    }
    assert set(by_subgraph) == {"products", "inventory", "reviews"}
    assert needed == {by_subgraph["products"]}
    # Without anything deferred, every request is needed.
    assert prepared.initial_requests(frozenset()) == frozenset(by_subgraph.values())


def test_an_entity_field_asked_outside_the_deferred_fragment_is_waited_for() -> None:
    prepared = prepare(
        SHOP, "{ topProducts { upc stock ... @defer { reviews { body } } } }", None, Limits()
    )
    deferred = deferred_fragments(prepared.plan.operation.items, {})
    subgraphs = {
        batch.subgraph
        for stage in prepared.plan.stages
        for batch in [*stage.roots, *(b for level in stage.levels for b in level)]
        if id(batch) in prepared.initial_requests(deferred)
    }
    assert subgraphs == {"products", "inventory"}


def test_a_root_field_only_deferred_is_asked_in_a_request_of_its_own() -> None:
    prepared = prepare(SHOP, "{ topProducts { upc } ... @defer { media { id } } }", None, Limits())
    (stage,) = prepared.plan.stages
    assert [b.subgraph for b in stage.roots] == ["products", "products"]
    assert [("media" in b.query, "topProducts" in b.query) for b in stage.roots] == [
        (False, True),
        (True, False),
    ]
    deferred = deferred_fragments(prepared.plan.operation.items, {})
    assert prepared.initial_requests(deferred) == {id(stage.roots[0])}
    # Without @defer, one request to the subgraph answers both.
    plain = prepare(SHOP, "{ topProducts { upc } media { id } }", None, Limits()).plan
    assert len(plain.stages[0].roots) == 1
