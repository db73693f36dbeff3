"""Who may change the registry: writes need a machine token granting ``registry:write``,
subgraph URLs must be on the allow-list, and a refresh never passes on what it fetched."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nudges_devstack.testing import TokenIssuer

RegistryApp = Callable[..., FastAPI]
WRITE = "registry:write"

SDL = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\n'
    'type Query { me: User }\ntype User @key(fields: "id") { id: ID! name: String }'
)
#: What an internal server answers that the registry must never pass on.
PRIVATE = "root:x:0:0:PRIVATE-internal-page-9f3c"


class InternalServer:
    """A server on this machine answering every POST with a private text page."""

    def __init__(self) -> None:
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                owner.hits += 1
                self.rfile.read(int(self.headers.get("content-length", 0)))
                body = PRIVATE.encode()
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/graphql"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def internal() -> Iterator[InternalServer]:
    server = InternalServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def client(registry_app: RegistryApp) -> Iterator[TestClient]:
    with TestClient(registry_app()) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_anonymous_writes_are_refused(client: TestClient, writer: dict[str, str]) -> None:
    url = "http://127.0.0.1:4002/graphql"
    assert (
        client.post("/subgraphs", json={"name": "user", "url": url, "sdl": SDL}).status_code == 401
    )
    assert client.post("/subgraphs/user/refresh", json={"url": url}).status_code == 401
    assert client.delete("/subgraphs/user").status_code == 401
    assert client.get("/subgraphs").json() == []
    assert client.get("/supergraph").status_code == 404

    # A registered subgraph cannot be re-pointed or removed anonymously either.
    registered = {"name": "user", "url": url, "sdl": SDL}
    assert client.post("/subgraphs", json=registered, headers=writer).status_code == 201
    elsewhere = {**registered, "url": "http://127.0.0.1:9/graphql"}
    refused = client.post("/subgraphs", json=elsewhere)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert client.delete("/subgraphs/user", params={"force": "true"}).status_code == 401
    assert client.get("/subgraphs/user").json()["url"] == url
    # Reads stay open: the gateway polls the supergraph without a token.
    assert client.get("/supergraph").status_code == 200
    assert client.get("/supergraph.graphql").status_code == 200


def test_tokens_that_may_not_write_are_refused(client: TestClient, issuer: TokenIssuer) -> None:
    url = "http://127.0.0.1:4002/graphql"
    registration = {"name": "user", "url": url, "sdl": SDL}
    forbidden = {
        "a machine account without the scope": issuer.token("consumers", "service"),
        "an admin": issuer.token("someone", "admin", scope=WRITE),
        "a client": issuer.token("someone", "client"),
    }
    for who, token in forbidden.items():
        for response in (
            client.post("/subgraphs", json=registration, headers=bearer(token)),
            client.post("/subgraphs/user/refresh", json={"url": url}, headers=bearer(token)),
            client.delete("/subgraphs/user", headers=bearer(token)),
        ):
            assert response.status_code == 403, (who, response.text)
    invalid = {
        "another issuer's token": TokenIssuer().token("user", "service", scope=WRITE),
        "an expired token": issuer.token("user", "service", ttl=-60, scope=WRITE),
        "not a token": "not-a-jwt",
    }
    for who, token in invalid.items():
        response = client.post("/subgraphs", json=registration, headers=bearer(token))
        assert response.status_code == 401, (who, response.text)
    assert client.get("/subgraphs").json() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://attacker.example:4002/graphql",
        "https://127.0.0.1.attacker.example/graphql",
        "http://127.0.0.1:4002@attacker.example/graphql",  # user info: the host is the attacker
        "file:///etc/passwd",
        "http://[::1]:4002/graphql",
        "not a url",
    ],
)
def test_urls_off_the_allow_list_are_refused(
    client: TestClient, writer: dict[str, str], internal: InternalServer, url: str
) -> None:
    response = client.post(
        "/subgraphs", json={"name": "user", "url": url, "sdl": SDL}, headers=writer
    )
    assert response.status_code == 422, response.text
    assert "not an allowed subgraph URL" in response.json()["reason"]
    refresh = client.post("/subgraphs/user/refresh", json={"url": url}, headers=writer)
    assert refresh.status_code == 422, refresh.text
    assert client.get("/subgraphs").json() == []


def test_the_allow_list_is_a_setting(
    registry_app: RegistryApp, writer: dict[str, str], internal: InternalServer
) -> None:
    allowed = ("https://*.nudges.internal:4002/graphql",)
    with TestClient(registry_app(registry_allowed_subgraph_urls=allowed)) as client:
        ok = {"name": "user", "url": "https://user.nudges.internal:4002/graphql", "sdl": SDL}
        assert client.post("/subgraphs", json=ok, headers=writer).status_code == 201
        for url in (
            "https://user.nudges.internal:4003/graphql",
            "https://user.nudges.internal:4002/admin",
            "http://user.nudges.internal:4002/graphql",
            internal.url,
        ):
            response = client.post(
                "/subgraphs", json={**ok, "url": url, "name": "other"}, headers=writer
            )
            assert response.status_code == 422, url
        refresh = client.post("/subgraphs/x/refresh", json={"url": internal.url}, headers=writer)
        assert refresh.status_code == 422
    assert internal.hits == 0, "a URL off the allow-list was fetched"


def test_refresh_does_not_echo_what_it_fetched(
    client: TestClient, writer: dict[str, str], internal: InternalServer
) -> None:
    response = client.post("/subgraphs/user/refresh", json={"url": internal.url}, headers=writer)
    assert internal.hits == 1
    assert response.status_code == 502
    assert response.json() == {
        "status": "refused",
        "reason": "the subgraph did not answer with its SDL",
    }
    assert "PRIVATE" not in response.text
    assert "root:x" not in response.text
