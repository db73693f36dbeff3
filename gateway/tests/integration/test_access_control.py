"""@authenticated, @requiresScopes and @policy enforced by the gateway over HTTP: two fixture
subgraphs composed by GraphMonitor's composition, callers with JWTs signed by the kit's
issuer (its keys served as a JWKS), and the requests the subgraphs receive."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from access_fixture import DATA, SDLS
from fixture_subgraphs import FixtureSubgraph
from gateway_support import RunningGateway, ServedApp, start_gateway
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nudges_devstack.testing import TokenIssuer
from nudges_registry.domain.composition import SubgraphSource, compose

UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"


@dataclass
class Setup:
    gateway: RunningGateway
    issuer: TokenIssuer
    subgraphs: dict[str, FixtureSubgraph]

    def ask(self, query: str, token: str | None = None) -> dict[str, Any]:
        for subgraph in self.subgraphs.values():
            subgraph.requests.clear()
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return self.gateway.query(query, headers=headers)

    def sent(self) -> str:
        """Every query the subgraphs received, in one text."""
        return " ".join(r["query"] for s in self.subgraphs.values() for r in s.requests)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, warpcache_server: str) -> Iterator[Setup]:
    issuer = TokenIssuer()

    async def jwks(_: Request) -> JSONResponse:
        return JSONResponse(issuer.jwks)

    keys = ServedApp(Starlette(routes=[Route("/jwks.json", jwks)])).start()  # type: ignore[arg-type]
    subgraphs = {name: FixtureSubgraph(name, sdl, DATA[name]) for name, sdl in SDLS.items()}
    served = {name: ServedApp(s.app()).start() for name, s in subgraphs.items()}  # type: ignore[arg-type]
    composition = compose(
        [SubgraphSource(name, f"{served[name].url}/graphql", sdl) for name, sdl in SDLS.items()]
    )
    assert composition.supergraph_sdl is not None, composition.errors
    path: Path = tmp_path_factory.mktemp("access") / "supergraph.graphql"
    path.write_text(composition.supergraph_sdl)
    gateway = start_gateway(
        path,
        warpcache_url=warpcache_server,
        jwks_url=f"{keys.url}/jwks.json",
        jwt_issuer=issuer.issuer,
        jwt_audience=issuer.audience,
        authorization_policies={"auditor": {"claim": "groups", "any_of": ["audit"]}},
    )
    yield Setup(gateway, issuer, subgraphs)
    gateway.served.stop()
    for app in (*served.values(), keys):
        app.stop()


def _paths(body: dict[str, Any]) -> list[list[object]]:
    return sorted(
        e["path"] for e in body.get("errors", []) if e["extensions"]["code"] == UNAUTHORIZED
    )


def test_an_anonymous_caller_gets_null_and_an_error_for_each_protected_field(
    setup: Setup,
) -> None:
    body = setup.ask("{ motd me { name } level secret account(id: 1) { name email } }")
    assert body["data"] == {
        "motd": "hello",
        "me": None,
        "level": None,
        "secret": None,
        "account": {"name": "Ada", "email": None},
    }
    assert _paths(body) == [["account", "email"], ["level"], ["me"], ["secret"]]
    assert body["errors"][0]["message"] == "Unauthorized field or type"
    # Nothing protected was asked of the subgraphs.
    sent = setup.sent()
    assert "me" not in sent.split()
    assert "email" not in sent
    assert "secret" not in sent


def test_a_field_refused_in_a_list_has_one_error_at_its_path_in_the_operation(
    setup: Setup,
) -> None:
    body = setup.ask("{ accounts { name email } }")
    assert body["data"] == {
        "accounts": [{"name": "Ada", "email": None}, {"name": "Bob", "email": None}]
    }
    assert body["errors"] == [
        {
            "message": "Unauthorized field or type",
            "path": ["accounts", "@", "email"],
            "extensions": {"code": UNAUTHORIZED},
        }
    ]


def test_a_signed_in_caller_gets_what_its_scopes_allow(setup: Setup) -> None:
    token = setup.issuer.token("user-1", "client", scope="read:email")
    body = setup.ask("{ me { name email balance plan } level }", token)
    assert body["data"] == {
        "me": {"name": "Ada", "email": "ada@example.org", "balance": None, "plan": "pro"},
        "level": "HIGH",
    }
    assert _paths(body) == [["me", "balance"]]
    assert "balance" not in setup.sent()
    assert "plan" in setup.sent()
    both = setup.issuer.token("user-1", "client", scope="read:email billing:read secrets")
    body = setup.ask("{ me { email balance } secret }", both)
    assert body == {"data": {"me": {"email": "ada@example.org", "balance": 42}, "secret": "s3cr3t"}}


def test_policies_hold_by_configured_claim_or_by_role(setup: Setup) -> None:
    query = "{ account(id: 1) { name audit { note } } }"
    plain = setup.ask(query, setup.issuer.token("user-1", "client"))
    assert plain["data"] == {"account": {"name": "Ada", "audit": None}}
    assert _paths(plain) == [["account", "audit"]]
    auditor = setup.ask(query, setup.issuer.token("user-1", "client", groups=["audit"]))
    assert auditor == {"data": {"account": {"name": "Ada", "audit": {"note": "checked"}}}}
    admin = setup.ask(query, setup.issuer.token("admin-1", "admin"))
    assert admin == auditor


def test_a_token_that_does_not_verify_is_refused_and_reaches_no_subgraph(setup: Setup) -> None:
    forged = TokenIssuer(setup.issuer.issuer).token("user-1", "admin", scope="read:email")
    expired = setup.issuer.token("user-1", "client", ttl=-60)
    for subgraph in setup.subgraphs.values():
        subgraph.requests.clear()
    for token in (forged, expired):
        response = setup.gateway.post(
            "{ motd me { name } }", headers={"authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert setup.sent() == ""
