"""HTTP to the subgraphs: one keep-alive connection pool per subgraph URL, a deadline per
request, and JSON in and out with orjson."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

Json = dict[str, Any]


class SubgraphError(Exception):
    """A subgraph request failed: unreachable, timed out, or not a GraphQL answer."""

    def __init__(self, subgraph: str, message: str, code: str) -> None:
        super().__init__(message)
        self.subgraph = subgraph
        self.code = code


class SubgraphHttp:
    """Posts GraphQL requests to subgraphs over pooled HTTP/1.1 connections."""

    def __init__(
        self,
        timeout: float = 10.0,
        max_connections: int = 100,
        max_keepalive: int = 20,
        keepalive_expiry: float = 30.0,
    ) -> None:
        self.timeout = timeout
        self.limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive,
            keepalive_expiry=keepalive_expiry,
        )
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def _client(self, url: str) -> httpx.AsyncClient:
        client = self._clients.get(url)
        if client is None:
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                limits=self.limits,
                http1=True,
                http2=False,
            )
            self._clients[url] = client
        return client

    async def fetch(
        self,
        subgraph: str,
        url: str,
        query: str,
        variables: Mapping[str, Any],
        headers: Mapping[str, str],
    ) -> Json:
        """The JSON answer of ``subgraph`` at ``url`` (raises :class:`SubgraphError`)."""
        body: Json = {"query": query}
        if variables:
            body["variables"] = variables
        try:
            response = await self._client(url).post(
                url,
                content=orjson.dumps(body),
                headers={
                    "content-type": "application/json",
                    "accept": "application/graphql-response+json, application/json",
                    **headers,
                },
            )
        except httpx.TimeoutException:
            raise SubgraphError(
                subgraph,
                f'subgraph "{subgraph}" did not answer within {self.timeout}s',
                "SUBGRAPH_TIMEOUT",
            ) from None
        except httpx.HTTPError as exc:
            raise SubgraphError(
                subgraph, f'subgraph "{subgraph}" is unavailable: {exc!r}', "SUBGRAPH_UNAVAILABLE"
            ) from None
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            answer = None
        if not isinstance(answer, dict) or ("data" not in answer and "errors" not in answer):
            raise SubgraphError(
                subgraph,
                f'subgraph "{subgraph}" answered HTTP {response.status_code} without a GraphQL '
                "response",
                "SUBGRAPH_BAD_RESPONSE",
            )
        return answer

    def retain(self, urls: set[str], grace: float) -> None:
        """Close the pools of URLs no longer in the supergraph, after ``grace`` seconds (the
        requests still running on the previous supergraph finish on them)."""
        gone = [self._clients.pop(u) for u in list(self._clients) if u not in urls]
        if not gone:
            return

        async def close_later() -> None:
            await asyncio.sleep(grace)
            for client in gone:
                await client.aclose()

        try:
            task = asyncio.get_running_loop().create_task(close_later())
        except RuntimeError:  # no loop (a load at start-up): nothing is using them
            return
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
