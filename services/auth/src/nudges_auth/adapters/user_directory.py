"""UserApi, asked who a phone number is (admin or not, its language), over GraphQL with a
service token AuthApi signs for itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

PHONE_IDENTITY = "query($h: String!) { phoneIdentity(phoneHash: $h) { isAdmin locale userId } }"


class DirectoryUnavailable(Exception):
    """UserApi did not answer, or answered with an error."""


@dataclass(frozen=True)
class PhoneIdentity:
    is_admin: bool
    locale: str | None
    known: bool


class UserDirectory:
    """The ``phoneIdentity`` query of UserApi at ``url``."""

    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        service_token: Callable[[], str],
        timeout: float = 3.0,
    ) -> None:
        self._url = url
        self._http = http
        self._service_token = service_token
        self._timeout = timeout

    async def phone_identity(self, phone_hash: str) -> PhoneIdentity:
        """What UserApi knows of the number with ``phone_hash`` (nothing: not an admin)."""
        try:
            response = await self._http.post(
                self._url,
                json={"query": PHONE_IDENTITY, "variables": {"h": phone_hash}},
                headers={"Authorization": f"Bearer {self._service_token()}"},
                timeout=self._timeout,
            )
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DirectoryUnavailable(f"UserApi at {self._url}: {exc!r}") from exc
        if body.get("errors") or not body.get("data"):
            raise DirectoryUnavailable(f"UserApi refused phoneIdentity: {body.get('errors')}")
        found = body["data"]["phoneIdentity"]
        return PhoneIdentity(
            is_admin=bool(found["isAdmin"]),
            locale=found.get("locale"),
            known=found.get("userId") is not None,
        )


class CachedServiceToken:
    """AuthApi's own service token (subject ``auth``), signed again shortly before expiry."""

    def __init__(
        self, sign: Callable[[], tuple[str, int]], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._sign = sign
        self._clock = clock
        self._token = ""
        self._renew_at = 0.0

    def __call__(self) -> str:
        now = self._clock()
        if not self._token or now >= self._renew_at:
            token, lifetime = self._sign()
            self._token, self._renew_at = token, now + lifetime - min(60, lifetime / 2)
        return self._token
