"""graphql-transport-ws at ``/graphql``: each subscription is forwarded to the subgraph that
owns its root field, and every event is completed with fields from other subgraphs (entity
requests) before it is sent on."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import WebSocket, WebSocketDisconnect

from nudges_gateway.adapters.sessions import RevokedToken, SessionStoreUnavailable
from nudges_gateway.adapters.subgraph_http import SubgraphError
from nudges_gateway.adapters.subgraph_ws import subscribe
from nudges_gateway.domain.prepare import RequestError
from nudges_gateway.service_layer.gateway import GraphQLRequest, KeysUnavailable
from nudges_kit.auth import InvalidToken
from nudges_kit.logging import get_logger

if TYPE_CHECKING:
    from nudges_gateway.bootstrap import Components
    from nudges_gateway.settings import GatewaySettings

log = get_logger(__name__)
PROTOCOL = "graphql-transport-ws"
INIT_TIMEOUT = 10.0


class _Connection:
    def __init__(self, websocket: WebSocket, components: Components) -> None:
        self.websocket = websocket
        self.components = components
        self.lock = asyncio.Lock()
        self.tasks: dict[str, asyncio.Task[None]] = {}

    async def send(self, message: dict[str, Any]) -> None:
        async with self.lock:
            await self.websocket.send_text(orjson.dumps(message).decode())

    async def run_operation(self, op_id: str, payload: Any, headers: dict[str, str]) -> None:
        gateway = self.components.gateway
        try:
            try:
                ready = await gateway.ready_for(
                    GraphQLRequest.of(payload), ("query", "mutation", "subscription"), headers
                )
            except RequestError as exc:
                await self.send({"id": op_id, "type": "error", "payload": exc.errors})
                return
            plan = ready.plan
            # A subscription whose root field the caller may not see has nothing to follow:
            # it is answered once, null with the error.
            if plan.kind != "subscription" or not plan.stages or not plan.stages[0].roots:
                body = await gateway.run(ready, headers)
                await self.send({"id": op_id, "type": "next", "payload": body})
                await self.send({"id": op_id, "type": "complete"})
                return
            root = plan.stages[0].roots[0]
            graph = ready.state.supergraph.graphs[root.subgraph]
            variables = {n: ready.variables[n] for n in root.variables if n in ready.variables}
            try:
                async for event in subscribe(
                    root.subgraph, graph.url, root.query, variables, headers
                ):
                    data = event.get("data")
                    body = await gateway.run(
                        ready, headers, root_data=data if isinstance(data, dict) else {}
                    )
                    if event.get("errors"):
                        body["errors"] = [*event["errors"], *body.get("errors", [])]
                    if not isinstance(data, dict):
                        body["data"] = None
                    await self.send({"id": op_id, "type": "next", "payload": body})
            except SubgraphError as exc:
                await self.send(
                    {
                        "id": op_id,
                        "type": "error",
                        "payload": [
                            {
                                "message": str(exc),
                                "extensions": {"code": exc.code, "serviceName": exc.subgraph},
                            }
                        ],
                    }
                )
                return
            await self.send({"id": op_id, "type": "complete"})
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            self.tasks.pop(op_id, None)


async def serve_graphql_ws(
    websocket: WebSocket, components: Components, settings: GatewaySettings
) -> None:
    """Serve one graphql-transport-ws connection until it closes."""
    from nudges_gateway.entrypoints.http import forwarded_headers

    if PROTOCOL not in websocket.scope.get("subprotocols", []):
        await websocket.close(code=4406, reason="Subprotocol not acceptable")
        return
    await websocket.accept(subprotocol=PROTOCOL)
    connection = _Connection(websocket, components)
    try:
        async with asyncio.timeout(INIT_TIMEOUT):
            init = orjson.loads(await websocket.receive_text())
    except (TimeoutError, orjson.JSONDecodeError, WebSocketDisconnect):
        with contextlib.suppress(RuntimeError):
            await websocket.close(code=4408, reason="Connection initialisation timeout")
        return
    if not isinstance(init, dict) or init.get("type") != "connection_init":
        await websocket.close(code=4400, reason="expected connection_init")
        return
    payload = init.get("payload")
    params: dict[str, Any] = payload if isinstance(payload, dict) else {}
    incoming = dict(websocket.headers)
    for name in ("Authorization", "authorization"):
        if isinstance(params.get(name), str):
            incoming["authorization"] = params[name]
    origin = websocket.headers.get("origin")
    cookies = websocket.cookies if origin is None or origin in settings.websocket_origins else {}
    try:
        headers = await forwarded_headers(components, settings, incoming, cookies)
    except SessionStoreUnavailable:
        await websocket.close(code=4503, reason="session store unavailable")
        return
    except RevokedToken:
        # graphql-transport-ws: a connection the server refuses at init closes with 4403.
        await websocket.close(code=4403, reason="Forbidden: this sign-in has ended")
        return
    except InvalidToken:
        await websocket.close(code=4403, reason="Forbidden: the token is invalid or has expired")
        return
    except KeysUnavailable:
        await websocket.close(code=4503, reason="token keys unavailable")
        return
    await connection.send({"type": "connection_ack"})
    try:
        while True:
            message = orjson.loads(await websocket.receive_text())
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "ping":
                await connection.send({"type": "pong"})
            elif kind == "pong":
                continue
            elif kind == "subscribe":
                op_id = str(message.get("id"))
                if op_id in connection.tasks:
                    await websocket.close(
                        code=4409, reason=f"Subscriber for {op_id} already exists"
                    )
                    return
                connection.tasks[op_id] = asyncio.create_task(
                    connection.run_operation(op_id, message.get("payload"), headers)
                )
            elif kind == "complete":
                task = connection.tasks.pop(str(message.get("id")), None)
                if task is not None:
                    task.cancel()
            else:
                await websocket.close(code=4400, reason=f"unexpected message {kind!r}")
                return
    except (WebSocketDisconnect, orjson.JSONDecodeError):
        pass
    finally:
        for task in list(connection.tasks.values()):
            task.cancel()
