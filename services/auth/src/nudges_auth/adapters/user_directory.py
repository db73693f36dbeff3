"""UserApi, asked who a phone number is (admin or not, its language): the ``LoginIdentity``
operation (:mod:`nudges_kit.operations.user`) through the kit's service client, with the
service token AuthApi signs for itself."""

from __future__ import annotations

from dataclasses import dataclass

from nudges_kit.operations import user as user_ops
from nudges_kit.service_client import ServiceCallError, ServiceClient

#: Seconds of one call to UserApi: a login waits for it.
TIMEOUT_SECONDS = 3.0


class DirectoryUnavailable(Exception):
    """UserApi did not answer, or answered with an error."""


@dataclass(frozen=True)
class PhoneIdentity:
    is_admin: bool
    locale: str | None
    known: bool


class UserDirectory:
    """The ``phoneIdentity`` query of UserApi, through ``subgraphs``."""

    def __init__(self, subgraphs: ServiceClient) -> None:
        self._subgraphs = subgraphs

    async def phone_identity(self, phone_hash: str) -> PhoneIdentity:
        """What UserApi knows of the number with ``phone_hash`` (nothing: not an admin)."""
        try:
            found = await self._subgraphs.call(
                user_ops.login_identity, user_ops.PhoneHashVars(phone_hash=phone_hash)
            )
        except ServiceCallError as exc:
            raise DirectoryUnavailable(str(exc)) from exc
        return PhoneIdentity(is_admin=found.is_admin, locale=found.locale, known=found.known)
