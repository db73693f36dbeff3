"""The cost of an operation: every field once per object it is asked of, lists multiplying
what is beneath them by their page size, and the page size of a connection (``first``/``last``
on a field whose type has ``nodes``/``edges``) counting for the nodes and edges it returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import FragmentDefinitionNode, get_introspection_query, parse

from nudges_gateway.domain.operation import normalize_operation
from nudges_gateway.domain.prepare import Limits, RequestError, operation_cost, prepare
from nudges_gateway.domain.supergraph import Supergraph
from nudges_kit.graphql_limits import measure_operation

DIRECTORY = Supergraph((Path(__file__).parent / "supergraphs" / "directory.graphql").read_text())


def cost(query: str, variables: dict[str, Any] | None = None, default: int = 10) -> int:
    prepared = prepare(DIRECTORY, query, None, Limits())
    return operation_cost(DIRECTORY, prepared, variables or {}, default)


def test_a_page_size_on_a_connection_multiplies_its_nodes() -> None:
    # clients + nodes, then 100 * (id + name)
    assert cost("{ clients(first: 100) { nodes { id name } } }") == 2 + 100 * 2
    assert cost("{ clients(last: 7) { edges { cursor node { id } } } }") == 2 + 7 * (2 + 1)


def test_a_connection_without_a_page_size_counts_the_default() -> None:
    assert cost("{ clients { nodes { id } totalCount } }") == 3 + 10 * 1
    assert cost("{ clients { nodes { id } } }", default=25) == 2 + 25


def test_page_sizes_of_nested_connections_multiply() -> None:
    nested = "{ clients(first: 100) { nodes { announcements(first: 100) { nodes { id body } } } } }"
    assert cost(nested) == 2 + 100 * (2 + 100 * 2)
    assert cost(nested) > Limits().max_cost


def test_a_page_size_may_come_from_a_variable() -> None:
    query = "query($n: Int) { clients(first: $n) { nodes { id } } }"
    assert cost(query, {"n": 50}) == 2 + 50
    assert cost(query, {}) == 2 + 10


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ recentClients(limit: 4) { id name } }", 1 + 4 * 2),
        ("{ recentClients { id } }", 1 + 10),
        ("{ client(id: 1) { id name } }", 3),
        # the page size of a connection is not the size of lists further down
        ("{ client(id: 1) { announcements { nodes { id } } } }", 3 + 10),
        ("{ clients(first: 3) { nodes { announcements { nodes { id } } } } }", 2 + 3 * (2 + 10)),
    ],
)
def test_lists_and_single_objects(query: str, expected: int) -> None:
    assert cost(query) == expected


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ clients(first: 100) { nodes { id name } } }", {}),
        ("{ clients { nodes { id } totalCount } }", {}),
        ("{ clients(first: 100) { nodes { announcements(first: 100) { nodes { id } } } } }", {}),
        ("query($n: Int) { clients(first: $n) { nodes { id } } }", {"n": 50}),
        ("{ recentClients(limit: 4) { id name } }", {}),
        ("{ client(id: 1) { announcements { nodes { id } } } }", {}),
        (
            "{ a: client(id: 1) { b: name } c: clients { nodes { ...F } } }"
            " fragment F on Client { id }",
            {},
        ),
        ("{ __typename clients(first: 3) { __typename nodes { id } } }", {}),
    ],
)
def test_subgraphs_measure_operations_as_the_gateway_does(
    query: str, variables: dict[str, Any]
) -> None:
    """The kit's measure over graphql-core's AST (what every subgraph checks) agrees with the
    gateway's over its own operation model."""
    prepared = prepare(DIRECTORY, query, None, Limits())
    normalized = normalize_operation(prepared.operation, fragments_of(query))
    measured = measure_operation(
        DIRECTORY.api_schema, parse(query), prepared.operation, variables, 10
    )
    assert measured.depth == normalized.depth
    assert measured.aliases == normalized.aliases
    assert measured.cost == operation_cost(DIRECTORY, prepared, variables, 10)


def fragments_of(query: str) -> dict[str, FragmentDefinitionNode]:
    return {
        d.name.value: d for d in parse(query).definitions if isinstance(d, FragmentDefinitionNode)
    }


def test_introspection_that_multiplies_itself_is_refused() -> None:
    nested = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    with pytest.raises(RequestError) as refused:
        prepare(DIRECTORY, nested, None, Limits())
    assert refused.value.errors[0] == {
        "message": "Maximum introspection depth exceeded",
        "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
        "locations": [{"line": 1, "column": 3}],
    }
    prepare(DIRECTORY, get_introspection_query(descriptions=True), None, Limits())
