"""Shaping a response from merged subgraph data: null bubbling, error paths, representations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import parse

from nudges_gateway.domain.operation import normalize
from nudges_gateway.domain.plan import Fetch
from nudges_gateway.domain.results import (
    FAILED,
    Shaper,
    merge_into,
    objects_at,
    relocate_errors,
    representations,
)
from nudges_gateway.domain.supergraph import Supergraph

SHOP = Supergraph((Path(__file__).parent / "supergraphs" / "shop.graphql").read_text())


def shape(
    query: str, data: dict[str, Any], variables: dict[str, Any] | None = None
) -> tuple[Any, list[dict[str, Any]]]:
    document = parse(query)
    items = normalize(document.definitions[0].selection_set, {})  # type: ignore[attr-defined]
    errors: list[dict[str, Any]] = []
    return Shaper(SHOP, variables or {}, errors).shape("Query", items, data, None), errors


def test_only_the_clients_fields_in_its_order() -> None:
    data = {"me": {"__typename": "User", "id": "1", "name": "Ann", "_gw_id": "1"}}
    assert shape("{ me { name } }", data) == ({"me": {"name": "Ann"}}, [])


def test_null_in_a_non_null_field_nulls_the_nearest_nullable_parent() -> None:
    data = {"latestReviews": [{"id": "r1", "body": None}], "me": {"name": "Ann"}}
    result, errors = shape("{ latestReviews { id body } me { name } }", data)
    # latestReviews: [Review!]! -> the null bubbles through the list to the root
    assert result is None
    assert errors == [
        {
            "message": "Cannot return null for non-nullable field Review.body.",
            "path": ["latestReviews", 0, "body"],
        }
    ]


def test_an_existing_error_is_not_repeated() -> None:
    data = {"me": {"reviews": None}}
    result, errors = shape("{ me { reviews { body } } }", data)
    assert result == {"me": None}
    assert len(errors) == 1


def test_failed_fetch_reports_once_per_object() -> None:
    failure = {"message": "inventory down", "extensions": {"code": "SUBGRAPH_UNAVAILABLE"}}
    data = {"topProducts": [{"price": 1, FAILED: failure}, {"price": 2, FAILED: failure}]}
    result, errors = shape("{ topProducts { price stock weight } }", data)
    assert result == {
        "topProducts": [
            {"price": 1, "stock": None, "weight": None},
            {"price": 2, "stock": None, "weight": None},
        ]
    }
    assert [e["path"] for e in errors] == [["topProducts", 0, "stock"], ["topProducts", 1, "stock"]]


def test_skip_and_include_follow_the_variables() -> None:
    query = "query($a: Boolean!) { me { name @include(if: $a) id @skip(if: $a) } }"
    data = {"me": {"name": "Ann", "id": "1"}}
    assert shape(query, data, {"a": True})[0] == {"me": {"name": "Ann"}}
    assert shape(query, data, {"a": False})[0] == {"me": {"id": "1"}}


def test_abstract_types_follow_typename() -> None:
    data = {
        "media": [
            {"__typename": "Book", "title": "Dune", "pages": 3},
            {"__typename": "Movie", "title": "Alien", "minutes": 2},
        ]
    }
    result, _ = shape("{ media { title ... on Book { pages } ... on Movie { minutes } } }", data)
    assert result == {"media": [{"title": "Dune", "pages": 3}, {"title": "Alien", "minutes": 2}]}


def test_representations_are_deduplicated_and_skip_objects_without_key() -> None:
    items = normalize(parse("{ __typename upc }").definitions[0].selection_set, {})  # type: ignore[attr-defined]
    fetch = Fetch(
        1,
        "reviews",
        0,
        False,
        path=(("topProducts", None),),
        type_filter="Product",
        representation_typename="Product",
        representation=tuple(items),
        key_fields=2,
    )  # type: ignore[arg-type]
    data = {"topProducts": [{"upc": "a"}, {"upc": "b"}, {"upc": "a"}, {"upc": None}]}
    reps, targets = representations(fetch, objects_at(data, fetch.path, "Product"))
    assert reps == [{"__typename": "Product", "upc": "a"}, {"__typename": "Product", "upc": "b"}]
    assert [len(t) for t in targets] == [2, 1]
    for entity, group in zip([{"stars": 1}, {"stars": 2}], targets, strict=True):
        for obj in group:
            merge_into(obj, entity)
    assert [p.get("stars") for p in data["topProducts"]] == [1, 2, 1, None]
    errors = relocate_errors(
        [{"message": "no", "path": ["_e1", 1, "stars"]}], {"_e1": ([fetch], targets)}, data
    )
    assert errors == [{"message": "no", "path": ["topProducts", 1, "stars"]}]
