"""Request body limits: 413 before a byte past the limit is read.

A declared ``Content-Length`` over the limit is answered at once, without reading the body.
A body of unknown length (chunked) is counted while it streams, and reading stops at the
first chunk past the limit. The 413 carries ``Connection: close`` so that the server drops the
connection instead of draining what the client still sends.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CONTENT_LENGTH = b"content-length"


class RequestBodyTooLarge(HTTPException):
    """The request body exceeds ``limit`` bytes (an HTTP 413, so FastAPI answers it too when
    it surfaces inside a route)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=413,
            detail=f"the request body exceeds {limit} bytes",
            headers={"Connection": "close"},
        )
        self.limit = limit


def declared_length(headers: Iterable[tuple[bytes, bytes]]) -> int | None:
    """The ``Content-Length`` of raw ASGI ``headers`` (None when absent or not a number)."""
    for name, value in headers:
        if name == _CONTENT_LENGTH:
            return parse_length(value)
    return None


def parse_length(value: bytes | str) -> int | None:
    """A ``Content-Length`` value as a number of bytes (None when it is not one)."""
    try:
        return int(value)
    except ValueError:
        return None


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body, read from ``receive``; raises :class:`RequestBodyTooLarge` at
    the first chunk that takes it past ``limit`` bytes, without reading further."""
    message = await receive()
    body: bytes = message.get("body", b"")
    if len(body) > limit:
        raise RequestBodyTooLarge(limit)
    if not message.get("more_body"):
        return body
    parts = [body]
    size = len(body)
    while message.get("more_body"):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestBodyTooLarge(limit)
        parts.append(chunk)
    return b"".join(parts)


def too_large_response(limit: int, body: bytes | None = None) -> tuple[Message, Message]:
    """The ASGI messages of a 413 answer (``body``: a JSON body of the caller's shape)."""
    if body is None:
        body = orjson.dumps({"detail": RequestBodyTooLarge(limit).detail})
    start: Message = {
        "type": "http.response.start",
        "status": 413,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class BodyLimit:
    """ASGI middleware: HTTP request bodies of at most ``max_bytes`` reach ``app``; larger ones
    are answered 413 (declared ones before reading, streamed ones at the chunk that crosses
    the limit)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        length = declared_length(scope["headers"])
        if length is not None and length > limit:
            for message in too_large_response(limit):
                await send(message)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestBodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except RequestBodyTooLarge:
            if started:
                raise
            for message in too_large_response(limit):
                await send(message)


__all__ = [
    "BodyLimit",
    "RequestBodyTooLarge",
    "declared_length",
    "parse_length",
    "read_body",
    "too_large_response",
]
