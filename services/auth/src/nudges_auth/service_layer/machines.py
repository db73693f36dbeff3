"""Machine accounts (``consumers``, ``webhooks``, the subgraphs): the OAuth2
client-credentials grant."""

from __future__ import annotations

from collections.abc import Mapping

from nudges_auth.adapters.identity import MachineAccounts
from nudges_auth.domain.tokens import TokenSubject
from nudges_auth.metrics import MACHINE_TOKENS
from nudges_auth.service_layer.errors import Unauthenticated
from nudges_auth.service_layer.sessions import IssuedToken, TokenService


class InvalidClient(Unauthenticated):
    """Unknown machine account or wrong secret (RFC 6749 ``invalid_client``)."""


class MachineTokens:
    """A ``service`` token for a machine account that proves its secret."""

    def __init__(
        self,
        accounts: MachineAccounts,
        tokens: TokenService,
        scopes: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._accounts = accounts
        self._tokens = tokens
        self._scopes = dict(scopes or {})

    def issue(self, client_id: str, client_secret: str) -> IssuedToken:
        """A token with ``sub`` = ``client_id``, the role ``service`` and the scopes the
        account is granted (``MACHINE_SCOPES``)."""
        if not self._accounts.authenticate(client_id, client_secret):
            MACHINE_TOKENS.labels("refused").inc()
            raise InvalidClient("unknown client or wrong secret")
        MACHINE_TOKENS.labels("issued").inc()
        scopes = tuple(self._scopes.get(client_id, ()))
        return self._tokens.sign(TokenSubject(subject=client_id, role="service", scopes=scopes))
