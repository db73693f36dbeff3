"""A local Twilio: the official ``twilio`` library works against it, it records messages,
sends signed status callbacks, and simulates a phone texting the Nudges number.

A consumer points the library at it by setting the base URL of the ``api`` domain (the
Messages API lives there); :func:`client_for` does exactly that.
"""

from __future__ import annotations

from twilio.rest import Client

DEFAULT_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEFAULT_AUTH_TOKEN = "dev-auth-token"  # noqa: S105 - the emulator's public development token


def client_for(
    url: str, account_sid: str = DEFAULT_ACCOUNT_SID, auth_token: str = DEFAULT_AUTH_TOKEN
) -> Client:
    """A ``twilio`` client whose Messages API calls go to the emulator at ``url``.

    Production code needs no dependency on this package to do the same::

        client = Client(sid, token)
        client.api.base_url = url  # instead of https://api.twilio.com
    """
    client = Client(account_sid, auth_token)
    client.edge = None  # an edge or region would rewrite the host name
    client.region = None
    client.api.base_url = url.rstrip("/")
    return client
