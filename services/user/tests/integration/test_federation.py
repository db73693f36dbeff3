"""UserApi as a federation subgraph: its SDL, and entities resolved by key."""

from __future__ import annotations

import uuid

from nudges_devstack.testing import SubgraphClient


def test_the_sdl_declares_the_entities_by_id(api: SubgraphClient) -> None:
    sdl = api.ok("{ _service { sdl } }")["_service"]["sdl"]
    for entity in ("Client", "Subscriber", "Announcement"):
        assert f'type {entity} @key(fields: "id")' in sdl
    assert "@link" in sdl
    assert "type PageInfo @shareable" in sdl


def test_entities_resolve_clients_in_one_batch(api: SubgraphClient) -> None:
    ids = []
    for _ in range(3):
        owner = api.person("client")
        api.ok(
            'mutation($s: String!) { createClient(input: {name: "Ent", slug: $s}) { id } }',
            owner.token,
            s=f"ent-{uuid.uuid4().hex[:8]}",
        )
        ids.append(owner.subject)
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Client { id name } } }"""
    representations = [{"__typename": "Client", "id": i} for i in [*ids, str(uuid.uuid4())]]
    found = api.ok(query, api.service_token(), r=representations)["_entities"]
    assert [e["id"] if e else None for e in found] == [*ids, None]


def test_viewer_names_the_callers_kind(api: SubgraphClient) -> None:
    owner = api.person("client")
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "Me", slug: $s}) { id } }',
        owner.token,
        s=f"me-{uuid.uuid4().hex[:8]}",
    )
    query = "{ viewer { __typename ... on Client { name } } }"
    assert api.ok(query, owner.token)["viewer"] == {"__typename": "Client", "name": "Me"}
    assert api.ok(query)["viewer"] is None
