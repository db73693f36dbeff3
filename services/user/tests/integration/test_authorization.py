"""The authorization matrix: every root field, executed by every kind of caller (queries
and mutations over HTTP, subscriptions over graphql-transport-ws)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest

from nudges_devstack.infra import TansuBroker
from nudges_devstack.testing import SubgraphClient, park_dead_letter

OK = "ok"
#: No error, and no entity: what ``_entities`` answers for an id the caller may not see, as
#: for one that does not exist.
ABSENT = "absent"
CALLERS = ["anonymous", "subscriber", "client_own", "client_other", "admin", "service"]
#: The role of each kind of caller, for rows run by a new account of that kind.
ROLES = {
    "subscriber": "subscriber",
    "client_own": "client",
    "client_other": "client",
    "admin": "admin",
}
#: Rows whose operation an account may do once (a second client profile is a conflict):
#: each caller runs them with a new account of its kind.
ONCE_PER_ACCOUNT = {"createClient"}
DEAD_LETTER_TOPIC = "user.memberships"
RENAME = """mutation($id: ID!) {
  updateClient(id: $id, input: {name: "Matrix Client"}) { id } }"""


async def _park_dead_letter(bootstrap_servers: str) -> str:
    """Park one event on the dead-letter topic; its event id."""
    event_id = str(uuid.uuid4())
    await park_dead_letter(
        bootstrap_servers,
        DEAD_LETTER_TOPIC,
        f'{{"id": "{event_id}"}}'.encode(),
        event_id,
        "user.membership.joined",
        key="matrix",
    )
    return event_id


@pytest.fixture(scope="module")
def world(api: SubgraphClient, kafka_broker: TansuBroker) -> dict[str, str]:
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
    service = api.service_token()
    draft_key = f"matrix-{uuid.uuid4()}"
    announcement = api.ok(
        "mutation($c: ID!, $k: String!) {"
        ' confirmAnnouncement(clientId: $c, body: "Matrix", draftKey: $k) { id } }',
        service,
        c=owner.subject,
        k=draft_key,
    )["confirmAnnouncement"]["id"]
    event_id = asyncio.run(_park_dead_letter(kafka_broker.bootstrap_servers))
    letters = api.ok(
        "query($t: String) { deadLetters(topic: $t, first: 50) { nodes { id eventId } } }",
        admin.token,
        t=DEAD_LETTER_TOPIC,
    )["deadLetters"]["nodes"]
    return {
        "client_id": owner.subject,
        "slug": slug,
        "fan_id": fan.subject,
        "announcement_id": announcement,
        "draft_key": draft_key,
        "dead_letter_id": next(x["id"] for x in letters if x["eventId"] == event_id),
        "anonymous": "",
        "subscriber": fan.token,
        "client_own": owner.token,
        "client_other": other.token,
        "admin": admin.token,
        "service": service,
    }


Operation = Callable[[dict[str, str]], tuple[str, dict[str, str]]]

SERVICE_ONLY = {
    "anonymous": "UNAUTHENTICATED",
    "subscriber": "FORBIDDEN",
    "client_own": "FORBIDDEN",
    "client_other": "FORBIDDEN",
    "admin": "FORBIDDEN",
    "service": OK,
}
ADMIN_ONLY = {**SERVICE_ONLY, "admin": OK, "service": "FORBIDDEN"}
SUBSCRIBER_ONLY = {**SERVICE_ONLY, "subscriber": OK, "service": "FORBIDDEN"}
#: What only the client it belongs to, admins and services may see.
OWNER_ADMIN_SERVICE = {
    "anonymous": "UNAUTHENTICATED",
    "subscriber": "FORBIDDEN",
    "client_own": OK,
    "client_other": "FORBIDDEN",
    "admin": OK,
    "service": OK,
}
#: The composer's calls: clients only, each acting for itself; refused here for their input.
CLIENTS_ONLY_REFUSED_FOR_INPUT = {
    "anonymous": "UNAUTHENTICATED",
    "subscriber": "FORBIDDEN",
    "client_own": "BAD_USER_INPUT",
    "client_other": "BAD_USER_INPUT",
    "admin": "FORBIDDEN",
    "service": "FORBIDDEN",
}

MATRIX: list[tuple[str, Operation, dict[str, str]]] = [
    (
        "clientBySlug (public fields)",
        lambda w: ("query($s: String!) { clientBySlug(slug: $s) { name slug } }", {"s": w["slug"]}),
        {c: OK for c in CALLERS},
    ),
    (
        "clientBySlug (slug or keyword: the SMS dialogue's JOIN)",
        lambda w: (
            "query($s: String!) { clientBySlug(slug: $s, match: SLUG_OR_KEYWORD) { name } }",
            {"s": w["slug"]},
        ),
        {c: OK for c in CALLERS},
    ),
    (
        "Client.timeZone (reached through the public clientBySlug)",
        lambda w: (
            "query($s: String!) { clientBySlug(slug: $s) { timeZone timeZoneSet } }",
            {"s": w["slug"]},
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
        "client.stripeCustomerId",
        lambda w: (
            "query($id: ID!) { client(id: $id) { stripeCustomerId } }",
            {"id": w["client_id"]},
        ),
        # Stripe ids are for staff: not even the client itself reads its own.
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": "FORBIDDEN",
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
        "dailyActivity",
        lambda w: (
            'query($c: ID!) { dailyActivity(from: "2021-01-01", to: "2021-01-02", clientId: $c)'
            " { day } }",
            {"c": w["client_id"]},
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
    # The composer acts for the calling client only. Each authorized call below is refused for
    # its input before the composer asks ProductApi or LocalizationApi (not running here); the
    # composer's own tests (tests/composer) run them with both.
    (
        "previewAnnouncement (an empty text)",
        lambda w: ('{ previewAnnouncement(text: "") { totalSegments } }', {}),
        CLIENTS_ONLY_REFUSED_FOR_INPUT,
    ),
    (
        "sendAnnouncement (an empty text)",
        lambda w: (
            'mutation { sendAnnouncement(text: "", idempotencyKey: "matrix-key-1") { id } }',
            {},
        ),
        CLIENTS_ONLY_REFUSED_FOR_INPUT,
    ),
    (
        "scheduleAnnouncement (a time in the past)",
        lambda w: (
            'mutation { scheduleAnnouncement(text: "Matrix",'
            ' sendAt: "2020-01-01T10:00:00", timeZone: "Europe/Paris") { id } }',
            {},
        ),
        CLIENTS_ONLY_REFUSED_FOR_INPUT,
    ),
    (
        "scheduledAnnouncements (the caller's own)",
        lambda w: ("{ scheduledAnnouncements { id } }", {}),
        {**CLIENTS_ONLY_REFUSED_FOR_INPUT, "client_own": OK, "client_other": OK},
    ),
    (
        "cancelScheduledAnnouncement (an id that is no schedule of the caller's)",
        lambda w: (
            "mutation($id: ID!) { cancelScheduledAnnouncement(id: $id) { id } }",
            {"id": str(uuid.uuid4())},
        ),
        {**CLIENTS_ONLY_REFUSED_FOR_INPUT, "client_own": "NOT_FOUND", "client_other": "NOT_FOUND"},
    ),
    (
        "setMembershipsByPhone (STOP)",
        lambda w: ('mutation { setMembershipsByPhone(phoneHash: "nobody", status: STOPPED) }', {}),
        SERVICE_ONLY,
    ),
    (
        "announcementRecipients",
        lambda w: (
            "query($id: ID!) { announcementRecipients(clientId: $id) { nextAfter } }",
            {"id": w["client_id"]},
        ),
        SERVICE_ONLY,
    ),
    (
        "contact",
        lambda w: ("query($id: ID!) { contact(userId: $id) { locale } }", {"id": w["client_id"]}),
        SERVICE_ONLY,
    ),
    (
        "viewer (null for the anonymous and services)",
        lambda w: ("{ viewer { __typename } }", {}),
        {c: OK for c in CALLERS},
    ),
    (
        "announcements (a client's own)",
        lambda w: ("{ announcements { totalCount } }", {}),
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
        "phoneIdentity",
        lambda w: ('{ phoneIdentity(phoneHash: "nobody") { userId } }', {}),
        SERVICE_ONLY,
    ),
    (
        "deadLetters",
        lambda w: (
            "query($t: String) { deadLetters(topic: $t, first: 1) { totalCount } }",
            {"t": DEAD_LETTER_TOPIC},
        ),
        ADMIN_ONLY,
    ),
    (
        "createClient (by a new account of each kind)",
        lambda w: (
            'mutation($s: String!) { createClient(input: {name: "New", slug: $s}) { id } }',
            {"s": f"new-{uuid.uuid4().hex[:10]}"},
        ),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": OK,
            "client_other": OK,
            "admin": "FORBIDDEN",
            "service": "FORBIDDEN",
        },
    ),
    (
        "joinClient",
        lambda w: ("mutation($s: String!) { joinClient(slug: $s) { id } }", {"s": w["slug"]}),
        SUBSCRIBER_ONLY,
    ),
    (
        "leaveClient",
        lambda w: (
            "mutation($id: ID!) { leaveClient(clientId: $id) { status } }",
            {"id": w["client_id"]},
        ),
        SUBSCRIBER_ONLY,
    ),
    (
        "setMembershipsByPhone (START)",
        lambda w: ('mutation { setMembershipsByPhone(phoneHash: "nobody", status: ACTIVE) }', {}),
        SERVICE_ONLY,
    ),
    (
        "confirmAnnouncement",
        lambda w: (
            "mutation($c: ID!, $k: String!) {"
            ' confirmAnnouncement(clientId: $c, body: "Matrix", draftKey: $k) { id } }',
            {"c": w["client_id"], "k": w["draft_key"]},
        ),
        SERVICE_ONLY,
    ),
    (
        "replayDeadLetter",
        lambda w: (
            "mutation($id: ID!) { replayDeadLetter(id: $id) { id } }",
            {"id": w["dead_letter_id"]},
        ),
        ADMIN_ONLY,
    ),
    (
        "clientUpdated",
        lambda w: (
            "subscription($id: ID!) { clientUpdated(id: $id) { id } }",
            {"id": w["client_id"]},
        ),
        OWNER_ADMIN_SERVICE,
    ),
    (
        "announcementProgress",
        lambda w: (
            "subscription($id: ID!) { announcementProgress(id: $id) { id } }",
            {"id": w["announcement_id"]},
        ),
        # Anyone else hears NOT_FOUND, as for an unknown id: ids are not probed.
        {**OWNER_ADMIN_SERVICE, "subscriber": "NOT_FOUND", "client_other": "NOT_FOUND"},
    ),
    (
        "Announcement entity",
        lambda w: (
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Announcement { id } } }",
            {"r": [{"__typename": "Announcement", "id": w["announcement_id"]}]},
        ),
        {**OWNER_ADMIN_SERVICE, "subscriber": ABSENT, "client_other": ABSENT},
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
    token = world[caller] or None
    if name.split(" ")[0] in ONCE_PER_ACCOUNT and caller in ROLES:
        token = api.person(ROLES[caller]).token
    if query.startswith("subscription"):
        body = api.first_push(token, query, variables, poke=lambda: _touch(api, world))
    else:
        body = api.gql(query, token, **variables)
    if expected[caller] == OK:
        assert "errors" not in body, (name, caller, body)
        assert body.get("data"), (name, caller, body)
        if "_entities" in body["data"]:
            assert body["data"]["_entities"][0], (name, caller, body)
    elif expected[caller] == ABSENT:
        assert body == {"data": {"_entities": [None]}}, (name, caller, body)
    else:
        assert body["errors"][0]["extensions"]["code"] == expected[caller], (name, caller, body)


def _touch(api: SubgraphClient, world: dict[str, str]) -> None:
    """Change the matrix's client, so that its clientUpdated subscribers get a push."""
    api.ok(RENAME, world["admin"], id=world["client_id"])


def test_a_forged_or_expired_token_is_unauthenticated(api: SubgraphClient) -> None:
    expired = api.issuer.token("someone", "admin", ttl=-60)
    body = api.gql("{ userTotals { clients } }", expired)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "invalid token" in body["errors"][0]["message"]
    assert api.gql("{ viewer { __typename } }", "not-a-jwt")["data"]["viewer"] is None


def test_every_root_field_is_in_the_matrix(api: SubgraphClient) -> None:
    from graphql import build_schema

    sdl = api.ok("{ _service { sdl } }")["_service"]["sdl"]
    schema = build_schema(
        "directive @key(fields: String!, resolvable: Boolean = true) repeatable on OBJECT\n"
        "directive @link(url: String!, import: [String]) repeatable on SCHEMA\n"
        "directive @shareable on OBJECT | FIELD_DEFINITION\n"
        "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION"
        " | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT"
        " | INPUT_FIELD_DEFINITION\n"
        "scalar DateTime\n" + sdl,
        assume_valid=True,
    )
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    fields = {name for root in roots if root for name in root.fields if not name.startswith("_")}
    in_matrix = {row[0].split(" ")[0].split(".")[0] for row in MATRIX}
    missing = fields - in_matrix
    assert not missing, f"root fields without an authorization row: {sorted(missing)}"


def test_another_clients_announcement_is_answered_like_a_missing_one(
    api: SubgraphClient, world: dict[str, str]
) -> None:
    """Whether an id belongs to another client must not show: same code, same message."""
    other = world["client_other"]
    answers = [
        api.first_push(
            other,
            "subscription($id: ID!) { announcementProgress(id: $id) { id } }",
            {"id": wanted},
            poke=lambda: None,
        )["errors"][0]
        for wanted in (world["announcement_id"], str(uuid.uuid4()))
    ]
    assert answers[0]["extensions"] == answers[1]["extensions"] == {"code": "NOT_FOUND"}
    assert answers[0]["message"] == answers[1]["message"]

    entity = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Announcement { id } } }"
    for wanted in (world["announcement_id"], str(uuid.uuid4())):
        body = api.gql(entity, other, r=[{"__typename": "Announcement", "id": wanted}])
        assert body == {"data": {"_entities": [None]}}, body
