"""@stream in the operation model and in shaping: which lists are streamed (their `if` and
`initialCount`), and the initial part cut to the first items, the others noted as
incremental items at the path of the first of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nudges_gateway.domain.defer import streamed_fields
from nudges_gateway.domain.operation import Stream
from nudges_gateway.domain.prepare import Limits, RequestError, prepare
from nudges_gateway.domain.results import Shaper
from nudges_gateway.domain.supergraph import Supergraph

SHOP = Supergraph((Path(__file__).parent / "supergraphs" / "shop.graphql").read_text())

PRODUCTS = [
    {"upc": "p1", "reviews": [{"body": "a"}, {"body": "b"}, {"body": "c"}]},
    {"upc": "p2", "reviews": [{"body": "d"}]},
    {"upc": "p3", "reviews": []},
]


def shaped(
    query: str, data: dict[str, Any], variables: dict[str, Any] | None = None
) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """The initial data, the streamed items and the errors of ``query`` over ``data``."""
    items = prepare(SHOP, query, None, Limits()).plan.operation.items
    values = variables or {}
    errors: list[dict[str, Any]] = []
    shaper = Shaper(SHOP, values, errors, streamed=streamed_fields(items, values))
    return shaper.shape("Query", items, data, None), shaper.streams, errors


def test_a_streamed_list_keeps_its_first_items_and_notes_the_others() -> None:
    data, streams, errors = shaped(
        '{ topProducts @stream(initialCount: 1, label: "p") { upc } }', {"topProducts": PRODUCTS}
    )
    assert data == {"topProducts": [{"upc": "p1"}]}
    assert streams == [
        {"items": [{"upc": "p2"}, {"upc": "p3"}], "path": ["topProducts", 1], "label": "p"}
    ]
    assert errors == []


def test_nested_streams_in_the_first_items_only() -> None:
    query = """{ topProducts @stream(initialCount: 1) {
      upc reviews @stream(initialCount: 2) { body } } }"""
    data, streams, _ = shaped(query, {"topProducts": PRODUCTS})
    assert data == {"topProducts": [{"upc": "p1", "reviews": [{"body": "a"}, {"body": "b"}]}]}
    # The reviews of the items that come later are whole.
    assert streams == [
        {"items": [{"body": "c"}], "path": ["topProducts", 0, "reviews", 2]},
        {
            "items": [
                {"upc": "p2", "reviews": [{"body": "d"}]},
                {"upc": "p3", "reviews": []},
            ],
            "path": ["topProducts", 1],
        },
    ]


def test_a_list_no_longer_than_its_initial_count_is_not_streamed() -> None:
    data, streams, _ = shaped(
        "{ topProducts @stream(initialCount: 3) { upc } }", {"topProducts": PRODUCTS}
    )
    assert len(data["topProducts"]) == 3
    assert streams == []


def test_a_null_in_a_later_item_nulls_the_list_as_a_whole_answer_would() -> None:
    broken = [{"upc": "p1"}, {"upc": None}]
    data, streams, errors = shaped(
        "{ topProducts @stream(initialCount: 1) { upc } }", {"topProducts": broken}
    )
    assert data is None
    assert streams == []
    assert [e["path"] for e in errors] == [["topProducts", 1, "upc"]]


def test_if_and_initial_count_from_variables() -> None:
    query = "query($s: Boolean!, $n: Int) { topProducts @stream(if: $s, initialCount: $n) { upc } }"
    items = prepare(SHOP, query, None, Limits()).plan.operation.items
    assert streamed_fields(items, {"s": False, "n": 1}) == {}
    (stream,) = streamed_fields(items, {"s": True, "n": 2}).values()
    assert stream == Stream(None, "s", 0, "n")
    assert stream.count({"n": 2}) == 2
    assert stream.count({"n": -4}) == 0
    assert stream.count({}) == 0
    literal = "{ topProducts @stream(if: false, initialCount: 1) { upc } }"
    assert streamed_fields(prepare(SHOP, literal, None, Limits()).plan.operation.items, {}) == {}


def test_stream_is_valid_on_lists_only() -> None:
    with pytest.raises(RequestError) as refused:
        prepare(SHOP, "{ me @stream { id } }", None, Limits())
    assert refused.value.errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_stream_is_not_sent_to_subgraphs() -> None:
    plan = prepare(SHOP, "{ topProducts @stream(initialCount: 1) { upc } }", None, Limits()).plan
    assert all("@stream" not in step["query"] for step in plan.describe())  # type: ignore[operator]
