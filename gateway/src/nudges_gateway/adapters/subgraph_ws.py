"""Subscriptions to a subgraph over WebSocket (graphql-transport-ws)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

from nudges_gateway.adapters.subgraph_http import SubgraphError

PROTOCOL = Subprotocol("graphql-transport-ws")
Json = dict[str, Any]


def websocket_url(url: str) -> str:
    """The ws:// (wss://) URL of a subgraph's http:// (https://) ``/graphql``."""
    if url.startswith("https://"):
        return "wss://" + url[len("https://") :]
    if url.startswith("http://"):
        return "ws://" + url[len("http://") :]
    return url


async def subscribe(
    subgraph: str,
    url: str,
    query: str,
    variables: Mapping[str, Any],
    headers: Mapping[str, str],
    connect_timeout: float = 10.0,
) -> AsyncIterator[Json]:
    """The events (``{"data": ..., "errors": ...}``) of a subscription to ``subgraph``."""
    try:
        async with connect(
            websocket_url(url),
            subprotocols=[PROTOCOL],
            additional_headers=dict(headers),
            open_timeout=connect_timeout,
        ) as ws:
            init: Json = {"type": "connection_init", "payload": dict(headers)}
            await ws.send(orjson.dumps(init).decode())
            async with asyncio.timeout(connect_timeout):
                while True:
                    message = orjson.loads(await ws.recv())
                    if message.get("type") == "connection_ack":
                        break
                    if message.get("type") == "ping":
                        await ws.send('{"type":"pong"}')
            payload: Json = {"query": query}
            if variables:
                payload["variables"] = dict(variables)
            await ws.send(
                orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}).decode()
            )
            try:
                async for raw in ws:
                    message = orjson.loads(raw)
                    kind = message.get("type")
                    if kind == "next":
                        yield message.get("payload") or {}
                    elif kind == "error":
                        errors = message.get("payload")
                        yield {
                            "data": None,
                            "errors": errors if isinstance(errors, list) else [errors],
                        }
                        return
                    elif kind == "complete":
                        return
                    elif kind == "ping":
                        await ws.send('{"type":"pong"}')
            finally:
                with contextlib.suppress(WebSocketException, OSError):
                    await ws.send('{"id":"1","type":"complete"}')
    except (OSError, WebSocketException, TimeoutError) as exc:
        raise SubgraphError(
            subgraph,
            f'subscription to subgraph "{subgraph}" failed: {exc!r}',
            "SUBGRAPH_UNAVAILABLE",
        ) from exc
