"""GraphMonitor over HTTP: registration, composition refusals, breaking changes, versions,
ETag, and the versions surviving a restart (they live in registrydb)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

RegistryApp = Callable[..., FastAPI]

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", '
    'import: ["@key", "@shareable", "@external"])\n'
)
USERS = LINK + 'type Query { me: User }\ntype User @key(fields: "id") { id: ID! name: String }'
POSTS = LINK + (
    "type Query { posts: [Post!]! }\ntype Post { id: ID! author: User }\n"
    'type User @key(fields: "id") { id: ID! posts: [Post!]! }'
)


#: The subgraphs of these tests live under ``.test``.
ALLOWED = ("http://*.test",)


@pytest.fixture
def client(registry_app: RegistryApp, writer: dict[str, str]) -> Iterator[TestClient]:
    app = registry_app(registry_allowed_subgraph_urls=ALLOWED)
    with TestClient(app, headers=writer) as client:
        yield client


def register(
    client: TestClient, name: str, sdl: str, force: bool = False
) -> tuple[int, dict[str, object]]:
    response = client.post(
        "/subgraphs",
        json={"name": name, "url": f"http://{name}.test/graphql", "sdl": sdl, "force": force},
    )
    return response.status_code, response.json()


def test_registrations_publish_versions_with_etags(client: TestClient) -> None:
    assert client.get("/supergraph").status_code == 404
    status, body = register(client, "users", USERS)
    assert (status, body["status"]) == (201, "published")
    status, body = register(client, "posts", POSTS)
    assert status == 201
    assert register(client, "posts", POSTS) == (200, body | {"status": "unchanged"})
    current = client.get("/supergraph")
    assert current.status_code == 200
    etag = current.headers["etag"]
    assert current.json()["id"] in etag
    assert "posts: [Post!]! @join__field(graph: POSTS)" in current.json()["supergraph_sdl"]
    assert client.get("/supergraph", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/supergraph.graphql", headers={"If-None-Match": etag}).status_code == 304
    versions = client.get("/supergraph/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert [s["name"] for s in versions[0]["subgraphs"]] == ["posts", "users"]
    first = client.get(f"/supergraph/versions/{versions[1]['id']}").json()
    assert "Post" not in first["supergraph_sdl"]
    assert [s["name"] for s in client.get("/subgraphs").json()] == ["posts", "users"]
    assert client.get("/subgraphs/users").json()["sdl"] == USERS


def test_a_composition_error_is_refused_naming_subgraph_and_field(client: TestClient) -> None:
    register(client, "users", USERS)
    clash = LINK + 'type Query { x: Int }\ntype User @key(fields: "id") { id: ID! name: Int }'
    status, body = register(client, "clash", clash)
    assert status == 400
    errors = body["errors"]
    assert errors[0]["code"] == "FIELD_TYPE_MISMATCH"  # type: ignore[index]
    assert errors[0]["coordinate"] == "User.name"  # type: ignore[index]
    assert errors[0]["subgraphs"] == ["clash", "users"]  # type: ignore[index]
    assert len(client.get("/supergraph/versions").json()) == 1
    assert [s["name"] for s in client.get("/subgraphs").json()] == ["users"]


def test_a_breaking_change_is_refused_unless_forced(client: TestClient) -> None:
    register(client, "users", USERS)
    status, body = register(client, "users", USERS.replace("name: String", "nickname: String"))
    assert status == 409
    assert body["breaking_changes"] == ["FIELD_REMOVED: Field User.name was removed."]
    status, body = register(
        client, "users", USERS.replace("name: String", "nickname: String"), force=True
    )
    assert status == 201
    assert body["version"]["forced"] is True  # type: ignore[index]
    assert "nickname" in client.get("/supergraph").json()["supergraph_sdl"]


def test_removing_a_subgraph_is_a_breaking_change(client: TestClient) -> None:
    register(client, "users", USERS)
    register(client, "posts", POSTS)
    assert client.delete("/subgraphs/posts").status_code == 409
    assert client.delete("/subgraphs/posts", params={"force": "true"}).status_code == 201
    assert client.delete("/subgraphs/nope").status_code == 404


def test_versions_survive_a_restart(registry_app: RegistryApp, writer: dict[str, str]) -> None:
    with TestClient(registry_app(registry_allowed_subgraph_urls=ALLOWED), headers=writer) as client:
        register(client, "users", USERS)
        published = client.get("/supergraph").json()
    with TestClient(registry_app(registry_allowed_subgraph_urls=ALLOWED), headers=writer) as client:
        assert client.get("/supergraph").json() == published
        assert register(client, "users", USERS)[0] == 200
