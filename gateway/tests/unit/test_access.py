"""Access control: which fields a caller may not see (from @authenticated, @requiresScopes
and @policy of the supergraph), the plan that leaves them out, and the response that answers
them null with UNAUTHORIZED_FIELD_OR_TYPE at their path."""

from __future__ import annotations

from typing import Any

import pytest
from access_fixture import SDLS

from nudges_gateway.domain.access import ANONYMOUS, Access, Caller, PolicyRule, caller_of
from nudges_gateway.domain.prepare import Limits, prepare
from nudges_gateway.domain.results import Shaper
from nudges_gateway.domain.supergraph import Supergraph
from nudges_registry.domain.composition import SubgraphSource, compose

composition = compose(
    [SubgraphSource(name, f"http://{name}.invalid/graphql", sdl) for name, sdl in SDLS.items()]
)
assert composition.supergraph_sdl is not None, composition.errors
GRAPH = Supergraph(composition.supergraph_sdl)

SIGNED_IN = Caller(authenticated=True)


def queries(query: str, caller: Caller) -> tuple[list[str], int]:
    """The text of each subgraph request for ``caller``, and how many fields were taken out."""
    prepared = prepare(GRAPH, query, None, Limits())
    plan, removed, _ = prepared.plan_for(GRAPH, caller)
    return [str(step["query"]) for step in plan.describe()], len(removed)


def answer(query: str, caller: Caller, data: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    """The response's data and the paths of its errors when the subgraphs answered ``data``."""
    prepared = prepare(GRAPH, query, None, Limits())
    _, removed, paths = prepared.plan_for(GRAPH, caller)
    errors: list[dict[str, Any]] = [{"path": list(p)} for p in paths]
    shaped = Shaper(GRAPH, {}, errors, removed).shape(
        "Query", prepared.plan.operation.items, data, None
    )
    return shaped, errors


def test_requirements_are_read_from_the_supergraph() -> None:
    access = GRAPH.access
    assert access.field_access("Query", "me") == Access(authenticated=True)
    assert access.field_access("Account", "email").scopes == (
        frozenset({"read:email"}),
        frozenset({"admin"}),
    )
    # A type's requirement holds for every field returning it: scalars, enums, objects.
    assert access.field_access("Query", "secret").scopes == (frozenset({"secrets"}),)
    assert access.field_access("Query", "level").authenticated
    assert access.field_access("Account", "audit").policies == (
        frozenset({"auditor"}),
        frozenset({"role:admin"}),
    )
    # The interface requires what its implementations require.
    assert access.field_access("Query", "node").authenticated
    assert access.policies == {"auditor", "role:admin"}
    assert not access.field_access("Query", "motd")


def test_an_anonymous_caller_gets_no_protected_field_fetched() -> None:
    sent, removed = queries("{ me { name } motd account(id: 1) { name email } }", ANONYMOUS)
    assert removed == 2
    assert sent == ["query { motd account(id: 1) { name } }"]


def test_scopes_decide_field_by_field() -> None:
    query = "{ account(id: 1) { name email balance } }"
    sent, removed = queries(query, SIGNED_IN)
    assert removed == 2
    assert all("email" not in q and "balance" not in q for q in sent)
    sent, removed = queries(query, Caller(True, frozenset({"admin", "billing:read"})))
    assert removed == 0
    assert any("email" in q for q in sent)
    assert any("balance" in q for q in sent)
    # Any one group of scopes is enough: read:email alone allows email.
    _, removed = queries(query, Caller(True, frozenset({"read:email"})))
    assert removed == 1


def test_a_selection_left_empty_keeps_its_object() -> None:
    sent, removed = queries("{ account(id: 1) { email } }", SIGNED_IN)
    assert removed == 1
    assert sent == ["query { account(id: 1) { __typename } }"]
    data, errors = answer(
        "{ account(id: 1) { email } }", SIGNED_IN, {"account": {"__typename": "Account"}}
    )
    assert data == {"account": {"email": None}}
    assert errors == [{"path": ["account", "email"]}]


def test_removed_fields_are_answered_null_with_an_error_at_their_path() -> None:
    data, errors = answer("{ motd me { name } level secret }", ANONYMOUS, {"motd": "hello"})
    assert data == {"motd": "hello", "me": None, "level": None, "secret": None}
    assert errors == [{"path": ["me"]}, {"path": ["level"]}, {"path": ["secret"]}]


def test_a_field_refused_in_a_list_has_one_error_at_its_path_in_the_operation() -> None:
    data, errors = answer(
        "{ accounts { name email } }",
        SIGNED_IN,
        {"accounts": [{"name": "Ada"}, {"name": "Bob"}]},
    )
    assert data == {"accounts": [{"name": "Ada", "email": None}, {"name": "Bob", "email": None}]}
    assert errors == [{"path": ["accounts", "@", "email"]}]


def test_a_fragment_on_a_type_the_caller_may_not_see_is_left_out() -> None:
    query = "{ account(id: 1) { ... on Account { audit { note } } name } }"
    sent, removed = queries(query, SIGNED_IN)
    assert removed == 1
    assert "audit" not in sent[0]
    admin = Caller(True, policies=frozenset({"role:admin"}))
    sent, removed = queries(query, admin)
    assert removed == 0
    assert "audit" in sent[0]


def test_an_operation_whose_every_field_is_refused_still_answers() -> None:
    sent, removed = queries("{ me { id } }", ANONYMOUS)
    assert removed == 1
    assert sent == []
    data, errors = answer("{ me { id } }", ANONYMOUS, {})
    assert data == {"me": None}
    assert errors[0]["path"] == ["me"]


def test_an_unguarded_operation_keeps_its_prepared_plan() -> None:
    prepared = prepare(GRAPH, "{ motd account(id: 1) { name plan } }", None, Limits())
    assert not prepared.is_guarded(GRAPH)
    plan, removed, _ = prepared.plan_for(GRAPH, ANONYMOUS)
    assert plan is prepared.plan
    assert not removed


def test_restricted_plans_are_kept_per_set_of_removed_fields() -> None:
    prepared = prepare(GRAPH, "{ account(id: 1) { name email } }", None, Limits())
    first, _, _ = prepared.plan_for(GRAPH, SIGNED_IN)
    again, _, _ = prepared.plan_for(GRAPH, Caller(True, frozenset({"other"})))
    assert first is again
    full, removed, _ = prepared.plan_for(GRAPH, Caller(True, frozenset({"admin"})))
    assert full is prepared.plan
    assert not removed


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"sub": "u", "scope": "read:email billing:read"}, {"read:email", "billing:read"}),
        ({"sub": "u", "scope": ["a", "b"]}, {"a", "b"}),
        ({"sub": "u"}, set()),
    ],
)
def test_scopes_come_from_the_scope_claim(claims: dict[str, Any], expected: set[str]) -> None:
    assert caller_of(claims, (), {}).scopes == expected


def test_policies_are_configured_rules_or_roles() -> None:
    rules = {
        "auditor": PolicyRule("groups", any_of=("audit",)),
        "verified": PolicyRule("profile.verified", equals=True),
    }
    used = ("auditor", "verified", "role:admin", "unknown")
    caller = caller_of(
        {"groups": "audit staff", "profile": {"verified": True}}, used, rules, roles=["admin"]
    )
    assert caller.policies == {"auditor", "verified", "role:admin"}
    assert caller_of({"groups": ["staff"]}, used, rules).policies == frozenset()
    assert caller_of(None, used, rules) == ANONYMOUS
