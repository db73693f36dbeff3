"""The authorization matrix: every operation against every kind of caller."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from nudges_devstack.testing import SubgraphClient

OK = "ok"
CALLERS = ["anonymous", "subscriber", "client_own", "client_other", "admin", "service"]


@pytest.fixture(scope="module")
def world(api: SubgraphClient) -> dict[str, str]:
    owner = api.person("client")
    slug = f"matrix-{uuid.uuid4().hex[:8]}"
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "Matrix", slug: $s}) { id } }',
        owner.token,
        s=slug,
    )
    other = api.person("client")
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "Other", slug: $s}) { id } }',
        other.token,
        s=f"other-{uuid.uuid4().hex[:8]}",
    )
    fan = api.person("subscriber")
    api.ok("mutation($s: String!) { joinClient(slug: $s) { id } }", fan.token, s=slug)
    admin = api.person("admin")
    return {
        "client_id": owner.subject,
        "slug": slug,
        "anonymous": "",
        "subscriber": fan.token,
        "client_own": owner.token,
        "client_other": other.token,
        "admin": admin.token,
        "service": api.service_token(),
    }


Operation = Callable[[dict[str, str]], tuple[str, dict[str, str]]]

MATRIX: list[tuple[str, Operation, dict[str, str]]] = [
    (
        "clientBySlug (public fields)",
        lambda w: ("query($s: String!) { clientBySlug(slug: $s) { name slug } }", {"s": w["slug"]}),
        {c: OK for c in CALLERS},
    ),
    (
        "client.stripeCustomerId",
        lambda w: (
            "query($id: ID!) { client(id: $id) { stripeCustomerId } }",
            {"id": w["client_id"]},
        ),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": OK,
            "client_other": "FORBIDDEN",
            "admin": OK,
            "service": OK,
        },
    ),
    (
        "clients",
        lambda w: ("{ clients { totalCount } }", {}),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": "FORBIDDEN",
            "client_other": "FORBIDDEN",
            "admin": OK,
            "service": "FORBIDDEN",
        },
    ),
    (
        "subscribers",
        lambda w: ("{ subscribers { totalCount } }", {}),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": OK,
            "client_other": OK,
            "admin": OK,
            "service": "FORBIDDEN",
        },
    ),
    (
        "userTotals",
        lambda w: ("{ userTotals { clients } }", {}),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": "FORBIDDEN",
            "client_other": "FORBIDDEN",
            "admin": OK,
            "service": "FORBIDDEN",
        },
    ),
    (
        "updateClient",
        lambda w: (
            'mutation($id: ID!) { updateClient(id: $id, input: {locale: "es"}) { id } }',
            {"id": w["client_id"]},
        ),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": OK,
            "client_other": "FORBIDDEN",
            "admin": OK,
            "service": "FORBIDDEN",
        },
    ),
    (
        "stopAllMemberships",
        lambda w: ('mutation { stopAllMemberships(phoneHash: "nobody") }', {}),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": "FORBIDDEN",
            "client_other": "FORBIDDEN",
            "admin": "FORBIDDEN",
            "service": OK,
        },
    ),
    (
        "announcementRecipients",
        lambda w: (
            "query($id: ID!) { announcementRecipients(clientId: $id) { nextAfter } }",
            {"id": w["client_id"]},
        ),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": "FORBIDDEN",
            "client_other": "FORBIDDEN",
            "admin": "FORBIDDEN",
            "service": OK,
        },
    ),
    (
        "contact",
        lambda w: ("query($id: ID!) { contact(userId: $id) { locale } }", {"id": w["client_id"]}),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": "FORBIDDEN",
            "client_other": "FORBIDDEN",
            "admin": "FORBIDDEN",
            "service": OK,
        },
    ),
    (
        "setClientStripeCustomer",
        lambda w: (
            "mutation($id: ID!) { setClientStripeCustomer(clientId: $id,"
            ' stripeCustomerId: "cus_matrix") { id } }',
            {"id": w["client_id"]},
        ),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": "FORBIDDEN",
            "client_other": "FORBIDDEN",
            "admin": "FORBIDDEN",
            "service": OK,
        },
    ),
]


@pytest.mark.parametrize(("name", "operation", "expected"), MATRIX, ids=[m[0] for m in MATRIX])
@pytest.mark.parametrize("caller", CALLERS)
def test_authorization_matrix(
    api: SubgraphClient,
    world: dict[str, str],
    caller: str,
    name: str,
    operation: Operation,
    expected: dict[str, str],
) -> None:
    query, variables = operation(world)
    body = api.gql(query, world[caller] or None, **variables)
    if expected[caller] == OK:
        assert "errors" not in body, (name, caller, body)
    else:
        assert body["errors"][0]["extensions"]["code"] == expected[caller], (name, caller, body)


def test_a_forged_or_expired_token_is_unauthenticated(api: SubgraphClient) -> None:
    expired = api.issuer.token("someone", "admin", ttl=-60)
    body = api.gql("{ userTotals { clients } }", expired)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "invalid token" in body["errors"][0]["message"]
    assert api.gql("{ viewer { __typename } }", "not-a-jwt")["data"]["viewer"] is None


#: Service-only or caller-specific fields covered by their own tests instead of the matrix.
COVERED_ELSEWHERE = {
    "viewer": "test_federation.test_viewer_names_the_callers_kind",
    "client": "the client.stripeCustomerId row",
    "announcements": "test_announcements",
    "createClient": "test_clients_and_memberships",
    "joinClient": "test_clients_and_memberships",
    "leaveClient": "test_clients_and_memberships",
    "restartAllMemberships": "test_stop_and_start_by_phone_change_every_membership",
    "phoneIdentity": "test_stop_and_start_by_phone_change_every_membership",
    "confirmAnnouncement": "test_announcements",
    "recordDelivery": "test_announcements",
    "recordMessageStatus": "test_announcements",
    "clientUpdated": "subscriptions authorize like client(id)",
    "announcementProgress": "test_the_owner_sees_progress_pushed_over_graphql_transport_ws",
    "deadLetters": "test_dead_letters",
    "replayDeadLetter": "test_dead_letters",
}


def test_every_root_field_is_in_the_matrix_or_named(api: SubgraphClient) -> None:
    from graphql import build_schema

    sdl = api.ok("{ _service { sdl } }")["_service"]["sdl"]
    schema = build_schema(
        "directive @key(fields: String!, resolvable: Boolean = true) repeatable on OBJECT\n"
        "directive @link(url: String!, import: [String]) repeatable on SCHEMA\n"
        "directive @shareable on OBJECT | FIELD_DEFINITION\n"
        "scalar DateTime\n" + sdl,
        assume_valid=True,
    )
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    fields = {name for root in roots if root for name in root.fields if not name.startswith("_")}
    in_matrix = {row[0].split(" ")[0].split(".")[0] for row in MATRIX}
    missing = fields - in_matrix - set(COVERED_ELSEWHERE)
    assert not missing, f"root fields without an authorization row: {sorted(missing)}"
