"""Tokens of machine accounts (``consumers``, ``webhooks``): OAuth2 client credentials.

::

    tokens = ServiceTokenProvider(
        "http://127.0.0.1:4001/auth/token", "consumers", settings.service_client_secret
    )
    response = await http.post(url, json=query, headers=await tokens.headers())

AuthApi, the issuer itself, signs its own service token instead of asking for one:
``ServiceTokenProvider.signed_by(sign)``. Either way each token is cached until shortly before
it expires, and concurrent callers share one fetch: this is the one token cache of the
platform (:mod:`nudges_kit.service_client` calls subgraphs with it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

import httpx

#: A cached token is replaced this many seconds before it expires.
REFRESH_MARGIN_SECONDS = 60.0


class ServiceTokenError(Exception):
    """The token endpoint refused the credentials or could not be reached."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


#: A token and its lifetime in seconds.
IssuedToken = tuple[str, float]


class ServiceTokenProvider:
    """Fetches client-credentials tokens from ``token_url`` (or, made by :meth:`signed_by`,
    signs them) and caches each until ``refresh_margin`` seconds before its expiry (at most
    half its lifetime early, so that a short-lived token is still reused). Concurrent callers
    wait for one fetch."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
        http: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_margin = refresh_margin
        self._http = http
        self._owns_http = http is None
        self._timeout = timeout
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self._issue: Callable[[], Awaitable[IssuedToken]] = self._client_credentials
        #: How many tokens were fetched (for metrics and tests).
        self.fetches = 0

    @classmethod
    def signed_by(
        cls,
        sign: Callable[[], IssuedToken],
        subject: str,
        *,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> ServiceTokenProvider:
        """A provider of the tokens ``sign`` makes for ``subject`` (AuthApi's own, signed with
        its keys rather than fetched from itself), cached like fetched ones."""
        provider = cls("", subject, "", refresh_margin=refresh_margin, clock=clock)

        async def signed() -> IssuedToken:
            return sign()

        provider._issue = signed
        return provider

    async def token(self) -> str:
        """A valid access token, fetched when none is cached or the cached one is due."""
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        async with self._lock:
            # Another caller may have fetched while this one waited for the lock.
            if self._token is not None and self._clock() < self._refresh_at:
                return self._token
            return await self._fetch()

    async def headers(self) -> dict[str, str]:
        """The ``Authorization`` header carrying a valid token."""
        return {"Authorization": f"Bearer {await self.token()}"}

    def invalidate(self) -> None:
        """Forget the cached token (after a 401 with it, say); the next call fetches anew."""
        self._token = None
        self._refresh_at = 0.0

    async def _fetch(self) -> str:
        started = self._clock()
        token, lifetime = await self._issue()
        self.fetches += 1
        self._token = token
        self._refresh_at = started + lifetime - min(self._refresh_margin, lifetime / 2)
        return token

    async def _client_credentials(self) -> IssuedToken:
        http = self._client()
        try:
            response = await http.post(
                self.token_url,
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self._client_secret),
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise ServiceTokenError(f"token endpoint {self.token_url} unreachable: {exc}") from exc
        if response.status_code != 200:
            raise ServiceTokenError(
                f"token endpoint refused {self.client_id!r}: {response.status_code} "
                f"{response.text[:200]}",
                response.status_code,
            )
        body = response.json()
        return str(body["access_token"]), float(body.get("expires_in", 0))

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient()
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP client this provider created."""
        if self._owns_http and self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
