"""GraphQL calls to the subgraphs as the ``consumers`` machine account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from nudges_kit.consumer import DependencyUnavailable, PermanentError
from nudges_kit.service_auth import ServiceTokenError

TokenSource = Callable[[], Awaitable[str]]

#: Error codes that retrying cannot fix: the event goes to its dead-letter topic at once.
PERMANENT_CODES = frozenset({"BAD_USER_INPUT", "NOT_FOUND", "FORBIDDEN", "CONFLICT"})
#: Statuses of a subgraph (or of the proxy before it) that is restarting or overloaded.
UNAVAILABLE_STATUSES = frozenset({502, 503, 504})


class GraphError(Exception):
    """A subgraph answered with errors; ``code`` is the first error's ``extensions.code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class PermanentGraphError(GraphError, PermanentError):
    """A subgraph refused the call for a reason retrying cannot fix."""


class SubgraphUnavailable(GraphError, DependencyUnavailable):
    """A subgraph (or the token endpoint in front of it) could not be reached: the consumer
    waits for it without spending attempts."""


class GraphClient:
    """Calls UserApi, ProductApi and PaymentApi with a service token."""

    def __init__(
        self,
        urls: dict[str, str],
        token: TokenSource,
        timeout: float = 5.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._urls = urls
        self._token = token
        self._http = http or httpx.AsyncClient(timeout=timeout)

    async def call(self, subgraph: str, query: str, **variables: Any) -> dict[str, Any]:
        """The ``data`` of ``query`` on ``subgraph``; raises :class:`GraphError`."""
        try:
            token = await self._token()
        except ServiceTokenError as exc:
            if exc.status_code is None or exc.status_code in UNAVAILABLE_STATUSES:
                raise SubgraphUnavailable("UNAVAILABLE", f"no service token: {exc}") from exc
            raise
        try:
            response = await self._http.post(
                self._urls[subgraph],
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TransportError as exc:
            raise SubgraphUnavailable("UNAVAILABLE", f"{subgraph} unreachable: {exc!r}") from exc
        if response.status_code in UNAVAILABLE_STATUSES:
            raise SubgraphUnavailable("UNAVAILABLE", f"{subgraph} answered {response.status_code}")
        if response.status_code >= 500:
            raise GraphError("INTERNAL", f"{subgraph} answered {response.status_code}")
        body = response.json()
        if body.get("errors"):
            first = body["errors"][0]
            code = (first.get("extensions") or {}).get("code") or "INTERNAL"
            error = PermanentGraphError if code in PERMANENT_CODES else GraphError
            raise error(code, f"{subgraph}: {first.get('message')}")
        return body["data"]  # type: ignore[no-any-return]

    async def user(self, query: str, **variables: Any) -> dict[str, Any]:
        return await self.call("user", query, **variables)

    async def product(self, query: str, **variables: Any) -> dict[str, Any]:
        return await self.call("product", query, **variables)

    async def payment(self, query: str, **variables: Any) -> dict[str, Any]:
        return await self.call("payment", query, **variables)

    async def close(self) -> None:
        await self._http.aclose()
