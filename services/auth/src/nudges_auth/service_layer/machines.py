"""Machine accounts (``consumers``, ``webhooks``): the OAuth2 client-credentials grant."""

from __future__ import annotations

from nudges_auth.adapters.identity import MachineAccounts
from nudges_auth.domain.tokens import TokenSubject
from nudges_auth.metrics import MACHINE_TOKENS
from nudges_auth.service_layer.errors import Unauthenticated
from nudges_auth.service_layer.sessions import IssuedToken, TokenService


class InvalidClient(Unauthenticated):
    """Unknown machine account or wrong secret (RFC 6749 ``invalid_client``)."""


class MachineTokens:
    """A ``service`` token for a machine account that proves its secret."""

    def __init__(self, accounts: MachineAccounts, tokens: TokenService) -> None:
        self._accounts = accounts
        self._tokens = tokens

    def issue(self, client_id: str, client_secret: str) -> IssuedToken:
        """A token with ``sub`` = ``client_id`` and the role ``service``."""
        if not self._accounts.authenticate(client_id, client_secret):
            MACHINE_TOKENS.labels("refused").inc()
            raise InvalidClient("unknown client or wrong secret")
        MACHINE_TOKENS.labels("issued").inc()
        return self._tokens.sign(TokenSubject(subject=client_id, role="service"))
