"""Demand control: the estimated cost of operations over a supergraph with @cost and
@listSize, by Apollo's rules (object 1, scalar and enum 0, lists multiplied by their size),
matched against figures computed by hand, and the refusal of an operation over the limit."""

from __future__ import annotations

from typing import Any

import pytest
from demand_fixture import SHOP

from nudges_gateway.domain.demand import DemandEstimator, SlicingArgumentMissing
from nudges_gateway.domain.prepare import Limits, RequestError, prepare
from nudges_gateway.domain.supergraph import Supergraph
from nudges_gateway.service_layer.gateway import Gateway, GraphQLRequest
from nudges_gateway.service_layer.schema_state import SchemaHolder
from nudges_registry.domain.composition import SubgraphSource, compose

composition = compose([SubgraphSource("shop", "http://shop.invalid/graphql", SHOP)])
assert composition.supergraph_sdl is not None, composition.errors
SDL = composition.supergraph_sdl
GRAPH = Supergraph(SDL)


def cost(query: str, variables: dict[str, Any] | None = None, default: int = 10) -> int:
    plan = prepare(GRAPH, query, None, Limits()).plan
    estimator = DemandEstimator(GRAPH, default)
    return estimator.cost(plan.kind, plan.root_type, plan.operation.items, variables or {})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # 5 items * (Item's @cost 3 + id 0 + price's @cost 4)
        ("{ items(first: 5) { id price } }", 5 * (3 + 0 + 4)),
        # search: object 1 + total 0 + its sized field items: 4 * (3 + kind's enum @cost 2)
        ("{ search(first: 4) { total items { id kind } } }", 1 + 4 * (3 + 2)),
        # no slicing argument given (none required): the default size for the sized field
        ("{ search { items { id } } }", 1 + 10 * 3),
        # a list of scalars weighs 0 whatever its assumed size; heavy's @cost replaces 1
        ("{ tags heavy { value } }", 7 * 0 + 20),
        # without @listSize, limit sizes the list: 3 * (3 + owner 1)
        ("{ recent(limit: 3) { owner { name } } }", 3 * (3 + 1)),
        ("{ all { id } }", 10 * 3),
        # a mutation costs 10 besides its fields
        ("mutation { buy(id: 1) { id } }", 10 + 3),
        ("{ __typename all { __typename } }", 10 * 3),
    ],
)
def test_costs_match_hand_computed_figures(query: str, expected: int) -> None:
    assert cost(query) == expected


def test_sizes_follow_variables_and_the_default_list_size() -> None:
    query = "query($n: Int) { items(first: $n) { price } }"
    assert cost(query, {"n": 100}) == 100 * (3 + 4)
    assert cost("{ all { id } }", default=25) == 25 * 3


def test_a_required_slicing_argument_must_be_given_once() -> None:
    with pytest.raises(SlicingArgumentMissing):
        cost("{ items { id } }")


def gateway(max_cost: int) -> Gateway:
    holder = SchemaHolder(10)
    holder.load(SDL)

    async def unused(*_: object) -> dict[str, Any]:
        raise AssertionError("a refused operation fetches nothing")

    return Gateway(holder, unused, Limits(max_cost=max_cost))


def test_an_operation_over_the_limit_is_refused_with_its_cost() -> None:
    request = GraphQLRequest("query($n: Int) { items(first: $n) { price } }", None, {"n": 100})
    with pytest.raises(RequestError) as refused:
        gateway(500).ready(request, ("query",))
    assert refused.value.errors[0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": 700,
        "limit": 500,
    }
    # The same document with a smaller page is allowed.
    cheaper = GraphQLRequest(request.query, None, {"n": 10})
    assert gateway(500).ready(cheaper, ("query",)).prepared is not None


def test_a_missing_slicing_argument_is_refused_as_bad_input() -> None:
    with pytest.raises(RequestError) as refused:
        gateway(10_000).ready(GraphQLRequest("{ items { id } }"), ("query",))
    assert refused.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_what_is_measured_once_still_follows_each_requests_variables() -> None:
    """Demand is measured once per document and variable values: the same gateway refuses a
    large page, allows a small one, and refuses both again on later requests."""
    served = gateway(500)
    query = "query($n: Int) { items(first: $n) { price } }"
    for _ in range(2):
        with pytest.raises(RequestError) as refused:
            served.ready(GraphQLRequest(query, None, {"n": 100}), ("query",))
        assert refused.value.errors[0]["extensions"]["cost"] == 700
        assert served.ready(GraphQLRequest(query, None, {"n": 10}), ("query",)).prepared
        with pytest.raises(RequestError) as missing:
            served.ready(GraphQLRequest("{ items { id } }"), ("query",))
        assert missing.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_supergraph_keeps_cost_on_arguments_and_input_fields() -> None:
    assert "tags: [String] @cost(weight: 2)" in SDL
    assert "pricey: Boolean @cost(weight: 5)" in SDL
    assert "minPrice: Int @cost(weight: 3)" in SDL


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # the list of 2 (assumedSize) items: 2 * 3; no argument given adds nothing
        ("{ filtered { id } }", 2 * 3),
        # an argument without @cost (a scalar) adds nothing; a null one nothing either
        ('{ filtered(note: "x", pricey: null) { id } }', 2 * 3),
        # @cost on an argument is added once, not per item of the list
        ("{ filtered(pricey: true) { id } }", 2 * 3 + 5),
        # a list argument: its weight per item given
        ('{ filtered(tags: ["a", "b", "c"]) { id } }', 2 * 3 + 3 * 2),
        # an input object: 1, plus its input fields given (minPrice's @cost 3, kind 0)
        ("{ filtered(filter: {kind: A}) { id } }", 2 * 3 + 1),
        ("{ filtered(filter: {kind: A, minPrice: 4}) { id } }", 2 * 3 + 1 + 3),
        # nested input objects in a list: each 1 plus its fields
        (
            "{ filtered(filter: {minPrice: 1, and: [{minPrice: 2}, {kind: B}]}) { id } }",
            2 * 3 + (1 + 3) + (1 + 3) + 1,
        ),
        # the costs of several root fields add up
        ("{ search(first: 4) { total } all { id } filtered(pricey: false) { id } }", 1 + 30 + 11),
    ],
)
def test_arguments_and_input_fields_with_cost_add_it_when_given(query: str, expected: int) -> None:
    assert cost(query) == expected


def test_argument_costs_follow_variables() -> None:
    query = "query($f: ItemFilter, $t: [String]) { filtered(filter: $f, tags: $t) { id } }"
    assert cost(query, {"f": None, "t": None}) == 2 * 3
    assert cost(query, {"f": {"minPrice": 1}, "t": ["a"]}) == 2 * 3 + (1 + 3) + 2
