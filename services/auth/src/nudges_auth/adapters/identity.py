"""Identity providers: who people and machines are.

AuthApi always signs the platform's tokens itself (one issuer, one JWKS for every
subgraph); the provider decides who a person is. The built-in provider keeps nothing (a
person's id derives from the phone hash). Keycloak (``KEYCLOAK_URL``) keeps a user per phone
hash with its realm roles, and signs admins in with OIDC (authorization code + PKCE).
Machine accounts are the same with either provider: :class:`MachineAccounts`.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from keycloak import KeycloakAdmin, KeycloakOpenID, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakError, KeycloakPostError
from pydantic import SecretStr

from nudges_kit.auth import ROLES, Role, user_id_for

_PHONE_HASH = re.compile(r"^[0-9a-f]{64}$")


class IdentityUnavailable(Exception):
    """The identity provider did not answer."""


class OidcNotConfigured(Exception):
    """OIDC login needs Keycloak, and ``KEYCLOAK_URL`` is not set."""


class OidcLoginFailed(Exception):
    """The identity provider refused the authorization code or sent an unusable token."""


@dataclass(frozen=True)
class Person:
    """A person as the provider keeps them."""

    #: The Nudges user id: ``user_id_for(phone_hash)``, whichever the provider.
    user_id: str
    #: The provider's own id of the person (Keycloak's user id), when it keeps one.
    provider_id: str | None = None


@dataclass(frozen=True)
class OidcIdentity:
    """Who signed in through OIDC."""

    user_id: str
    roles: frozenset[Role]
    locale: str
    phone_hash: str | None


class IdentityProvider(Protocol):
    """What AuthApi needs of an identity provider."""

    name: str

    async def ensure_person(self, phone_hash: str, locale: str, role: Role) -> Person:
        """Get or create the person of ``phone_hash`` and give them ``role``."""
        ...

    async def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        """Where to send a browser to sign in (OIDC, PKCE S256)."""
        ...

    async def exchange_code(
        self, *, code: str, code_verifier: str, redirect_uri: str
    ) -> OidcIdentity:
        """Who signed in, from the authorization ``code`` of the callback."""
        ...

    async def close(self) -> None: ...


class MachineAccounts:
    """The machine accounts of the client-credentials grant (``MACHINE_SECRETS``), whichever
    the identity provider: workers authenticate to AuthApi, not to Keycloak."""

    def __init__(self, secrets: dict[str, SecretStr]) -> None:
        self._secrets = secrets

    def authenticate(self, client_id: str, client_secret: str) -> bool:
        """True when ``client_secret`` is the secret of machine account ``client_id``."""
        expected = self._secrets.get(client_id)
        # Compare against something even for unknown names, so timing tells nothing.
        secret = expected.get_secret_value() if expected else "\0unknown machine\0"
        return hmac.compare_digest(secret.encode(), client_secret.encode()) and bool(expected)


class BuiltInIdentity:
    """No directory of its own: a person's id derives from the phone hash; no OIDC."""

    name = "built-in"

    async def ensure_person(self, phone_hash: str, locale: str, role: Role) -> Person:
        return Person(user_id_for(phone_hash))

    async def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        raise OidcNotConfigured()

    async def exchange_code(
        self, *, code: str, code_verifier: str, redirect_uri: str
    ) -> OidcIdentity:
        raise OidcNotConfigured()

    async def close(self) -> None:
        return None


def _roles_of(claims: dict[str, Any]) -> frozenset[Role]:
    found = (claims.get("realm_access") or {}).get("roles") or []
    return frozenset(r for r in found if r in ROLES)


class KeycloakIdentity:
    """Keycloak through python-keycloak: realm ``realm``, client ``client_id`` (confidential,
    standard flow with PKCE S256 for admins, and a service account holding the
    realm-management roles ``view-users`` and ``manage-users`` for get-or-create)."""

    name = "keycloak"

    def __init__(self, server_url: str, realm: str, client_id: str, client_secret: str) -> None:
        self._server_url = server_url.rstrip("/") + "/"
        self._realm = realm
        self._openid = KeycloakOpenID(
            server_url=self._server_url,
            realm_name=realm,
            client_id=client_id,
            client_secret_key=client_secret,
        )
        self._connection = KeycloakOpenIDConnection(
            server_url=self._server_url,
            realm_name=realm,
            client_id=client_id,
            client_secret_key=client_secret,
            grant_type="client_credentials",
        )
        self._admin = KeycloakAdmin(connection=self._connection)

    async def _admin_ready(self) -> KeycloakAdmin:
        if self._connection.token is None:
            await self._connection.a_get_token()
        return self._admin

    async def ensure_person(self, phone_hash: str, locale: str, role: Role) -> Person:
        """The Keycloak user whose username is ``phone_hash`` (created when missing), with
        the attributes ``phone_hash`` and ``locale`` and the realm role ``role``."""
        try:
            admin = await self._admin_ready()
            user = await self._find_user(admin, phone_hash)
            attributes = {"phone_hash": [phone_hash], "locale": [locale]}
            if user is None:
                keycloak_id = await self._create_user(admin, phone_hash, attributes)
            else:
                keycloak_id = str(user["id"])
                if (user.get("attributes") or {}).get("locale") != [locale]:
                    await admin.a_update_user(
                        keycloak_id, {"attributes": {**user.get("attributes", {}), **attributes}}
                    )
            # Realm roles the user does not hold yet (needs only view-users, not view-realm).
            available = await admin.a_get_available_realm_roles_of_user(keycloak_id)
            missing = [r for r in available if r.get("name") == role]
            if missing:
                await admin.a_assign_realm_roles(keycloak_id, missing)
        except KeycloakError as exc:
            raise IdentityUnavailable(f"Keycloak: {exc}") from exc
        return Person(user_id_for(phone_hash), keycloak_id)

    @staticmethod
    async def _find_user(admin: KeycloakAdmin, username: str) -> dict[str, Any] | None:
        users = await admin.a_get_users({"username": username, "exact": True, "max": 1})
        return users[0] if users else None

    async def _create_user(
        self, admin: KeycloakAdmin, phone_hash: str, attributes: dict[str, list[str]]
    ) -> str:
        payload = {"username": phone_hash, "enabled": True, "attributes": attributes}
        try:
            return str(await admin.a_create_user(payload))
        except KeycloakPostError as exc:
            # Created by a concurrent login between the lookup and the creation.
            if exc.response_code != 409:
                raise
            user = await self._find_user(admin, phone_hash)
            if user is None:
                raise
            return str(user["id"])

    async def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        try:
            endpoint = (await self._openid.a_well_known())["authorization_endpoint"]
        except KeycloakError as exc:
            raise IdentityUnavailable(f"Keycloak: {exc}") from exc
        # Built here rather than with auth_url(), which does not encode the redirect URI.
        query = urlencode(
            {
                "client_id": self._openid.client_id,
                "response_type": "code",
                "redirect_uri": redirect_uri,
                "scope": "openid",
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoint}?{query}"

    async def exchange_code(
        self, *, code: str, code_verifier: str, redirect_uri: str
    ) -> OidcIdentity:
        try:
            tokens = await self._openid.a_token(
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
                code_verifier=code_verifier,
            )
        except KeycloakPostError as exc:
            if exc.response_code in (400, 401):
                raise OidcLoginFailed(f"Keycloak refused the code: {exc}") from exc
            raise IdentityUnavailable(f"Keycloak: {exc}") from exc
        except KeycloakError as exc:
            raise IdentityUnavailable(f"Keycloak: {exc}") from exc
        try:
            claims = await self._openid.a_decode_token(tokens["access_token"])
        except KeycloakError as exc:
            raise IdentityUnavailable(f"Keycloak: {exc}") from exc
        except Exception as exc:
            raise OidcLoginFailed(f"Keycloak sent a token that does not verify: {exc}") from exc
        # Users AuthApi created are named by their phone hash; others may carry it as a claim.
        username = str(claims.get("preferred_username") or "")
        phone_hash = claims.get("phone_hash") or (username if _PHONE_HASH.match(username) else None)
        return OidcIdentity(
            user_id=user_id_for(phone_hash) if phone_hash else str(claims["sub"]),
            roles=_roles_of(claims),
            locale=str(claims.get("locale") or "en"),
            phone_hash=phone_hash,
        )

    async def close(self) -> None:
        await self._openid.connection.aclose()
        await self._connection.aclose()
