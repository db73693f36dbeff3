"""POSTs of a form to one URL over a pool of keep-alive HTTP/1.1 connections (TLS for an
``https`` URL): the hot path of a fan-out, one POST per message, where a general-purpose
client's per-request machinery costs more CPU than the call itself.

It speaks just enough HTTP/1.1 for that: a request with a ``Content-Length`` body, answers
with a ``Content-Length`` or chunked body (or one that ends with the connection). A
connection that failed in any way is closed, never reused."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Seconds an idle connection is kept for reuse: under the servers' own keep-alive timeouts
#: (uvicorn's is 5), so that a request rarely meets a connection the server just closed.
IDLE_SECONDS = 4.0
#: Bytes of an answer's status line and headers at most.
MAX_HEAD = 64 * 1024


#: What a connection that broke mid-answer, or an answer that is not HTTP, raises.
_BROKEN = (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError, ValueError)


class ConnectionLost(Exception):
    """The connection failed or was closed before the whole answer was read: the server may
    have taken the request."""


@dataclass(frozen=True)
class Answer:
    """A server's answer: its status and its body."""

    status: int
    body: bytes


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def close(self) -> None:
        self.writer.close()


class FormPoster:
    """POSTs ``application/x-www-form-urlencoded`` bodies to ``url`` with ``headers``."""

    def __init__(self, url: str, headers: dict[str, str], max_idle: int = 256) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        fixed = {
            "Host": parts.netloc,
            "Content-Type": "application/x-www-form-urlencoded",
            "Connection": "keep-alive",
            **headers,
        }
        self._head = (
            f"POST {target} HTTP/1.1\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in fixed.items())
        ).encode("latin-1")
        self._max_idle = max_idle
        self._idle: list[_Connection] = []

    async def post(self, form: bytes, headers: Mapping[str, str] | None = None) -> Answer:
        """POST ``form``, with ``headers`` besides the fixed ones (a ``traceparent``); raises
        :class:`ConnectionLost` (or ``OSError`` when no connection could be opened)."""
        head = self._head
        if headers:
            head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode(
                "latin-1"
            )
        connection = await self._connection()
        try:
            connection.writer.write(head + b"Content-Length: %d\r\n\r\n" % len(form) + form)
            status, body, keep_alive = await _read_answer(connection.reader)
        except BaseException as exc:
            connection.close()
            if isinstance(exc, _BROKEN):
                raise ConnectionLost(f"{type(exc).__name__}: {exc}") from exc
            raise
        if keep_alive and len(self._idle) < self._max_idle:
            connection.idle_since = asyncio.get_running_loop().time()
            self._idle.append(connection)
        else:
            connection.close()
        return Answer(status, body)

    async def _connection(self) -> _Connection:
        now = asyncio.get_running_loop().time()
        while self._idle:
            connection = self._idle.pop()
            if now - connection.idle_since < IDLE_SECONDS and not connection.reader.at_eof():
                return connection
            connection.close()
        reader, writer = await asyncio.open_connection(
            self._host,
            self._port,
            ssl=self._ssl,
            server_hostname=self._host if self._ssl else None,
            limit=MAX_HEAD,
        )
        return _Connection(reader, writer)

    async def close(self) -> None:
        """Close the idle connections (those in use close when their answer is read)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body and whether the connection may be reused, of one answer."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].split(b"\r\n")
    version, _, rest = status_line.partition(b" ")
    try:
        status = int(rest[:3])
    except ValueError:
        raise ConnectionLost(f"not an HTTP answer: {status_line[:80]!r}") from None
    keep_alive = version == b"HTTP/1.1"
    length: int | None = None
    chunked = False
    for line in header_lines:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            keep_alive = value.strip().lower() == b"keep-alive" or (
                keep_alive and value.strip().lower() != b"close"
            )
    if status < 200 or status in (204, 304):
        body = b""
    elif chunked:
        body = await _read_chunks(reader)
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        body, keep_alive = await reader.read(), False
    return status, body, keep_alive


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            # Trailers, if any, end with an empty line.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
