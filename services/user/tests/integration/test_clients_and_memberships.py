"""Clients, memberships and the events they publish, through the GraphQL subgraph."""

from __future__ import annotations

import uuid

from nudges_devstack.testing import SubgraphClient as Api

CREATE = """mutation($name: String!, $slug: String) {
  createClient(input: {name: $name, slug: $slug}) { id name slug locale }
}"""
JOIN = "mutation($slug: String!) { joinClient(slug: $slug) { id status client { slug } } }"
LEAVE = "mutation($id: ID!) { leaveClient(clientId: $id) { id status } }"


def _slug() -> str:
    return f"club-{uuid.uuid4().hex[:8]}"


def _events(api: Api, key: str) -> list[str]:
    return [r[0] for r in api.sql("SELECT event_type FROM outbox WHERE key = %s ORDER BY id", key)]


def test_a_client_signs_up_and_its_event_is_in_the_outbox(api: Api) -> None:
    ada = api.person("client")
    slug = _slug()
    client = api.ok(CREATE, ada.token, name="  Ada's   Yoga ", slug=slug)["createClient"]
    assert client == {"id": ada.subject, "name": "Ada's Yoga", "slug": slug, "locale": "en"}
    assert _events(api, ada.subject) == ["user.client.created"]
    payload = api.sql("SELECT payload FROM outbox WHERE key = %s", ada.subject)[0][0]
    assert ada.phone not in str(payload)
    assert api.error_code(CREATE, ada.token, name="Again", slug=_slug()) == "CONFLICT"


def test_slugs_are_unique_and_url_safe(api: Api) -> None:
    slug = _slug()
    api.ok(CREATE, api.person("client").token, name="First", slug=slug)
    body = api.gql(CREATE, api.person("client").token, name="Second", slug=slug)
    assert body["errors"][0]["extensions"] == {"code": "CONFLICT", "field": "slug"}
    for bad in ("A b", "-dash", "ab", "admin", "x" * 41, "naïve"):
        body = api.gql(CREATE, api.person("client").token, name="Bad", slug=bad)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", bad
        assert body["errors"][0]["extensions"]["field"] == "slug"
    made = api.ok(CREATE, api.person("client").token, name="Café Olé!")["createClient"]
    assert made["slug"].startswith("cafe-ole")


def test_joining_is_idempotent_and_leaving_and_rejoining_publish_once_each(api: Api) -> None:
    owner = api.person("client")
    slug = _slug()
    api.ok(CREATE, owner.token, name="Runners", slug=slug)
    fan = api.person("subscriber")
    first = api.ok(JOIN, fan.token, slug=slug)["joinClient"]
    again = api.ok(JOIN, fan.token, slug=slug.upper())["joinClient"]
    assert first == again
    assert first["status"] == "ACTIVE"
    assert api.ok(LEAVE, fan.token, id=owner.subject)["leaveClient"]["status"] == "STOPPED"
    assert api.ok(LEAVE, fan.token, id=owner.subject)["leaveClient"]["status"] == "STOPPED"
    assert api.ok(JOIN, fan.token, slug=slug)["joinClient"]["status"] == "ACTIVE"
    assert _events(api, owner.subject) == [
        "user.client.created",
        "user.membership.joined",
        "user.membership.stopped",
        "user.membership.restarted",
    ]
    assert api.error_code(JOIN, fan.token, slug="nobody-here") == "NOT_FOUND"


def test_a_client_sees_its_subscribers_masked_and_counted(api: Api) -> None:
    owner = api.person("client")
    slug = _slug()
    api.ok(CREATE, owner.token, name="Choir", slug=slug)
    fans = [api.person("subscriber") for _ in range(3)]
    for fan in fans:
        api.ok(JOIN, fan.token, slug=slug)
    api.ok(LEAVE, fans[2].token, id=owner.subject)
    query = """query($id: ID!) { client(id: $id) { subscriberCount
      subscribers(first: 10) { totalCount nodes { status subscriber { phoneMasked } } } } }"""
    client = api.ok(query, owner.token, id=owner.subject)["client"]
    assert client["subscriberCount"] == 2
    assert client["subscribers"]["totalCount"] == 3
    masked = [n["subscriber"]["phoneMasked"] for n in client["subscribers"]["nodes"]]
    assert masked == [f"+1••••••{fan.phone[-4:]}" for fan in fans]
    other = api.person("client")
    assert api.error_code(query, other.token, id=owner.subject) == "FORBIDDEN"


def test_stop_and_start_by_phone_change_every_membership(api: Api) -> None:
    owners = [api.person("client") for _ in range(2)]
    fan = api.person("subscriber")
    for owner in owners:
        slug = _slug()
        api.ok(CREATE, owner.token, name="Club", slug=slug)
        api.ok(JOIN, fan.token, slug=slug)
    stop = "mutation($h: String!) { setMembershipsByPhone(phoneHash: $h, status: STOPPED) }"
    start = "mutation($h: String!) { setMembershipsByPhone(phoneHash: $h, status: ACTIVE) }"
    phone_hash = api.vault.hash(fan.phone)
    assert api.ok(stop, api.service_token(), h=phone_hash)["setMembershipsByPhone"] == 2
    assert api.ok(stop, api.service_token(), h=phone_hash)["setMembershipsByPhone"] == 0
    assert api.ok(start, api.service_token(), h=phone_hash)["setMembershipsByPhone"] == 2
    assert api.ok(stop, api.service_token(), h="unknown")["setMembershipsByPhone"] == 0
    identity = api.ok(
        "query($h: String!) { phoneIdentity(phoneHash: $h) {"
        " activeMemberships isAdmin client { id } } }",
        api.service_token(),
        h=phone_hash,
    )["phoneIdentity"]
    assert identity == {"activeMemberships": 2, "isAdmin": False, "client": None}


def test_clients_page_with_cursors(api: Api) -> None:
    for _ in range(3):
        api.ok(CREATE, api.person("client").token, name="Paged", slug=_slug())
    admin = api.person("admin").token
    query = """query($after: String) { clients(first: 2, after: $after, search: "paged") {
      totalCount pageInfo { hasNextPage endCursor } nodes { slug } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = api.ok(query, admin, after=after)["clients"]
        seen += [n["slug"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"] >= 3
    assert api.error_code(query, admin, after="garbage!") == "BAD_USER_INPUT"
    too_many = "{ clients(first: 1000) { totalCount } }"
    assert api.error_code(too_many, admin) == "BAD_USER_INPUT"


def test_concurrent_joins_of_one_pair_make_one_membership(api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    owner = api.person("client")
    slug = _slug()
    api.ok(CREATE, owner.token, name="Race", slug=slug)
    fan = api.person("subscriber")
    with ThreadPoolExecutor(max_workers=8) as pool:
        joined = list(pool.map(lambda _: api.ok(JOIN, fan.token, slug=slug), range(8)))
    assert len({j["joinClient"]["id"] for j in joined}) == 1
    rows = api.sql("SELECT count(*) FROM memberships WHERE client_id = %s", owner.subject)
    assert rows == [(1,)]
    assert _events(api, owner.subject).count("user.membership.joined") == 1


MEMBERS = """query($after: String, $status: MembershipStatus) {
  subscribers(first: 100, after: $after, status: $status) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id status source client { id name } subscriber { id } } } }"""


def _every_member(api: Api, token: str, status: str | None = None) -> list[dict[str, object]]:
    nodes: list[dict[str, object]] = []
    after = None
    while True:
        page = api.ok(MEMBERS, token, after=after, status=status)["subscribers"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def test_an_admin_lists_every_membership_with_its_client(api: Api) -> None:
    owner = api.person("client")
    slug = _slug()
    api.ok(CREATE, owner.token, name="Orchard", slug=slug)
    fans = [api.person("subscriber") for _ in range(2)]
    for fan in fans:
        api.ok(JOIN, fan.token, slug=slug)
    api.ok(LEAVE, fans[1].token, id=owner.subject)
    admin = api.person("admin").token

    first = api.gql(
        "{ subscribers(first: 3) { totalCount"
        " nodes { id status client { id name } subscriber { id } } } }",
        admin,
    )
    assert "errors" not in first, first["errors"]
    page = first["data"]["subscribers"]
    assert page["totalCount"] == api.sql("SELECT count(*) FROM memberships")[0][0]
    assert len(page["nodes"]) == 3
    assert all(n["client"] is not None and n["subscriber"] is not None for n in page["nodes"])

    # The admin's rows of this client are the client's own rows: one per membership.
    mine = [n for n in _every_member(api, admin) if n["client"]["id"] == owner.subject]  # type: ignore[index]
    own = api.ok(MEMBERS, owner.token)["subscribers"]["nodes"]
    assert mine == own
    assert [(n["subscriber"]["id"], n["status"]) for n in mine] == [  # type: ignore[index]
        (fans[0].subject, "ACTIVE"),
        (fans[1].subject, "STOPPED"),
    ]
    assert {n["client"]["name"] for n in mine} == {"Orchard"}  # type: ignore[index]
    stopped = _every_member(api, admin, "STOPPED")
    assert {n["status"] for n in stopped} == {"STOPPED"}
    assert [n["subscriber"]["id"] for n in stopped if n in mine] == [fans[1].subject]  # type: ignore[index]


def _membership_payloads(api: Api, key: str) -> list[tuple[str, dict[str, object]]]:
    rows = api.sql(
        "SELECT event_type, payload FROM outbox WHERE key = %s AND event_type LIKE"
        " 'user.membership.%%' ORDER BY id",
        key,
    )
    return [(event_type, payload["data"]) for event_type, payload in rows]


def test_each_membership_event_carries_the_clients_count_as_of_its_change(api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    owner = api.person("client")
    slug = _slug()
    api.ok(CREATE, owner.token, name="Counted", slug=slug)
    fans = [api.person("subscriber") for _ in range(6)]
    # Joins at once: each one counts the joins committed before it, never the same number twice.
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda fan: api.ok(JOIN, fan.token, slug=slug), fans))
    joined = _membership_payloads(api, owner.subject)
    assert [t for t, _ in joined] == ["user.membership.joined"] * 6
    assert sorted(d["active_subscribers"] for _, d in joined) == [1, 2, 3, 4, 5, 6]
    api.ok(LEAVE, fans[0].token, id=owner.subject)
    api.ok(JOIN, fans[0].token, slug=slug)
    phone_hash = api.vault.hash(fans[1].phone)
    stop = "mutation($h: String!) { setMembershipsByPhone(phoneHash: $h, status: STOPPED) }"
    api.ok(stop, api.service_token(), h=phone_hash)
    later = _membership_payloads(api, owner.subject)[6:]
    assert [(t, d["active_subscribers"]) for t, d in later] == [
        ("user.membership.stopped", 5),
        ("user.membership.restarted", 6),
        ("user.membership.stopped", 5),
    ]


QUIET_HOURS = "query($id: ID!) { client(id: $id) { quietHours } }"
SET_QUIET_HOURS = """mutation($id: ID!, $on: Boolean!) {
  updateClient(id: $id, input: {quietHours: $on}) { id quietHours } }"""


def test_a_client_turns_quiet_hours_off_for_their_audience_and_admins_see_it(
    api: Api,
) -> None:
    owner = api.person("client")
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "Owl", slug: $s}) { id } }',
        owner.token,
        s=f"owl-{uuid.uuid4().hex[:8]}",
    )
    admin = api.person("admin")
    assert api.ok(QUIET_HOURS, admin.token, id=owner.subject)["client"]["quietHours"] is True

    stranger = api.person("client")
    assert api.error_code(SET_QUIET_HOURS, stranger.token, id=owner.subject, on=False) == (
        "FORBIDDEN"
    )
    assert api.ok(QUIET_HOURS, admin.token, id=owner.subject)["client"]["quietHours"] is True

    changed = api.ok(SET_QUIET_HOURS, owner.token, id=owner.subject, on=False)
    assert changed["updateClient"] == {"id": owner.subject, "quietHours": False}
    assert api.ok(QUIET_HOURS, admin.token, id=owner.subject)["client"]["quietHours"] is False
    assert api.ok(QUIET_HOURS, owner.token, id=owner.subject)["client"]["quietHours"] is False
    assert api.error_code(QUIET_HOURS, stranger.token, id=owner.subject) == "FORBIDDEN"
