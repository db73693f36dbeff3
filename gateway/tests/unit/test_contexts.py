"""Contextual arguments (``@fromContext``) in plans and in the values read for them."""

from __future__ import annotations

from pathlib import Path

from nudges_gateway.domain.operation import FieldSel
from nudges_gateway.domain.prepare import Limits, prepare
from nudges_gateway.domain.results import context_value, objects_with_ancestors
from nudges_gateway.domain.supergraph import Supergraph
from nudges_registry.domain.composition import SubgraphSource, compose

CORPUS = Path(__file__).resolve().parents[3] / "services/registry/tests/conformance/corpus"


def supergraph(scenario: str) -> Supergraph:
    sources = [
        SubgraphSource(p.stem, f"http://{p.stem}.invalid/graphql", p.read_text())
        for p in sorted((CORPUS / scenario).glob("*.graphql"))
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


def test_the_context_is_selected_where_its_object_is_fetched_and_bound_to_a_variable() -> None:
    steps = plan("context-and-from-context", "{ user { account { greeting } } }")
    assert steps == [
        (0, "a", "query { user { account { __typename id } _ctx_locale: locale } }"),
        (
            1,
            "a",
            "query($r1: [_Any!]!) { _e1: _entities(representations: $r1) "
            "{ ... on Account { greeting(locale: $__ctx_1_0) } } }",
        ),
    ]


def test_the_nearest_object_carrying_the_context_gives_a_nested_selection() -> None:
    prepared = prepare(
        supergraph("context-nested-path"),
        '{ user(id: "u1") { posts { comments { body } } } }',
        None,
        Limits(),
    )
    root = prepared.plan.describe()[0]["query"]
    assert root == (
        'query { user(id: "u1") { posts { comments { __typename id } } '
        "_ctx_settings: settings { locale } } }"
    )
    (use,) = next(f for f in prepared.plan.fetches.values() if f.context_uses).context_uses
    assert (use.field, use.argument, use.type, use.level) == ("body", "locale", "String", 1)


def test_a_context_on_a_union_reads_the_branch_of_each_member() -> None:
    steps = plan(
        "context-on-union-type-conditions", "{ owners { ... on Company { pets { ownerLabel } } } }"
    )
    assert "... on Company { pets { __typename id } _ctx_legalName: legalName }" in steps[0][2]
    assert "ownerLabel(label: $__ctx_1_0)" in steps[1][2]


def test_a_contextual_field_of_another_subgraph_reads_the_context_there() -> None:
    steps = plan("context-across-subgraphs", "{ users { reviews { text } } }")
    assert [s[:2] for s in steps] == [(0, "users"), (1, "reviews"), (2, "reviews")]
    assert "_ctx_locale: locale" in steps[1][2]
    assert "text(locale: $__ctx_2_0)" in steps[2][2]


def test_each_object_comes_with_its_ancestors_and_the_context_is_read_from_one() -> None:
    data = {
        "users": [
            {"_ctx_s": {"locale": "fr"}, "posts": [{"id": "p1"}, {"id": "p2"}]},
            {"_ctx_s": [{"locale": "de"}, None], "posts": [{"id": "p3"}]},
        ]
    }
    found = objects_with_ancestors(data, (("users", None), ("posts", None)), None)
    assert [(o["id"], len(chain)) for o, chain in found] == [("p1", 3), ("p2", 3), ("p3", 3)]
    items = (
        FieldSel(
            "_ctx_s",
            "s",
            "",
            (),
            (FieldSel("locale", "locale", "", (), (), frozenset()),),
            frozenset(),
        ),
    )
    assert [context_value(chain[1], items) for _, chain in found] == ["fr", "fr", ["de", None]]
