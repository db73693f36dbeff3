"""The `nudges` realm compose imports into Keycloak (infra/keycloak/nudges-realm.json): the
product's roles, the UI and AuthApi clients with PKCE, the machine accounts, and tokens that
carry the audience and the user attributes the services read."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Infra


@pytest.fixture(scope="module")
def realm(infra: Infra) -> dict[str, Any]:
    return json.loads((infra.repo / "infra" / "keycloak" / "nudges-realm.json").read_text())


def client(realm: dict[str, Any], client_id: str) -> dict[str, Any]:
    return next(c for c in realm["clients"] if c["clientId"] == client_id)


def service_account(realm: dict[str, Any], client_id: str) -> dict[str, Any]:
    return next(u for u in realm["users"] if u.get("serviceAccountClientId") == client_id)


def mappers(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in c.get("protocolMappers", [])}


def test_realm_and_roles(realm: dict[str, Any]) -> None:
    assert realm["realm"] == "nudges"
    assert {r["name"] for r in realm["roles"]["realm"]} == {
        "admin",
        "client",
        "subscriber",
        "service",
    }


def test_web_client_is_public_with_pkce(realm: dict[str, Any]) -> None:
    web = client(realm, "nudges-web")
    assert web["publicClient"] is True
    assert web["standardFlowEnabled"] is True
    assert web["implicitFlowEnabled"] is False
    assert web["directAccessGrantsEnabled"] is False
    assert web["attributes"]["pkce.code.challenge.method"] == "S256"
    assert "http://localhost:4001/auth/callback" in web["redirectUris"]
    assert {"http://localhost:5173/*", "http://localhost:5174/*"} <= set(web["redirectUris"])


def test_auth_client_manages_users(realm: dict[str, Any]) -> None:
    auth = client(realm, "nudges-auth")
    assert auth["publicClient"] is False
    assert auth["serviceAccountsEnabled"] is True
    assert auth["attributes"]["pkce.code.challenge.method"] == "S256"
    roles = service_account(realm, "nudges-auth")["clientRoles"]["realm-management"]
    assert set(roles) == {"manage-users", "view-users"}


@pytest.mark.parametrize("client_id", ["nudges-consumers", "nudges-webhooks"])
def test_workers_are_confidential_service_accounts(realm: dict[str, Any], client_id: str) -> None:
    worker = client(realm, client_id)
    assert worker["publicClient"] is False
    assert worker["serviceAccountsEnabled"] is True
    assert worker["standardFlowEnabled"] is False
    assert service_account(realm, client_id)["realmRoles"] == ["service"]


def test_every_token_carries_the_nudges_audience(realm: dict[str, Any]) -> None:
    for c in realm["clients"]:
        audience = mappers(c)["audience-nudges"]
        assert audience["protocolMapper"] == "oidc-audience-mapper"
        assert audience["config"]["included.custom.audience"] == "nudges"
        assert audience["config"]["access.token.claim"] == "true"


@pytest.mark.parametrize("client_id", ["nudges-web", "nudges-auth"])
@pytest.mark.parametrize("attribute", ["locale", "phone_hash"])
def test_user_attributes_reach_the_token(
    realm: dict[str, Any], client_id: str, attribute: str
) -> None:
    mapper = mappers(client(realm, client_id))[attribute]
    assert mapper["protocolMapper"] == "oidc-usermodel-attribute-mapper"
    assert mapper["config"]["user.attribute"] == attribute
    assert mapper["config"]["claim.name"] == attribute
    assert mapper["config"]["access.token.claim"] == "true"


def test_user_profile_keeps_phone_hash(realm: dict[str, Any]) -> None:
    """Keycloak drops attributes its user profile does not declare."""
    provider = realm["components"]["org.keycloak.userprofile.UserProfileProvider"][0]
    profile = json.loads(provider["config"]["kc.user.profile.config"][0])
    phone_hash = next(a for a in profile["attributes"] if a["name"] == "phone_hash")
    assert phone_hash["permissions"]["view"] == ["admin"]
