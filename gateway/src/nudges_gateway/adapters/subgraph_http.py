"""HTTP to the subgraphs: HTTP/1.1 over keep-alive connections (a pool per subgraph URL), a
deadline per request, and JSON in and out with orjson.

Each subgraph request is written as one buffer and its answer parsed by httptools (the parser
uvicorn serves with) on a plain asyncio protocol: tens of microseconds of CPU besides the
socket calls, where a general-purpose client (httpx) spent about half a millisecond per
request, and an operation makes one request per subgraph and level. A connection the server
closes while idle is dropped as soon as the event loop sees it close."""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import urlsplit

import httptools
import orjson

Json = dict[str, Any]


class SubgraphError(Exception):
    """A subgraph request failed: unreachable, timed out, or not a GraphQL answer."""

    def __init__(self, subgraph: str, message: str, code: str) -> None:
        super().__init__(message)
        self.subgraph = subgraph
        self.code = code


class ConnectionClosed(ConnectionError):
    """The connection ended before the whole answer arrived."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection to a subgraph: one request at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.answer: asyncio.Future[tuple[int, bytes]] | None = None
        self.chunks: list[bytes] = []
        #: Whether a byte of the current answer arrived (else a request may be replayed).
        self.received = False
        #: Whether the answer announced its end (a length or chunks) rather than the close.
        self.delimited = False
        self.headers_done = False
        self.keep_alive = True
        self.closed = False
        self.idle_since = 0.0

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        """Send one request; the future gets the status and body of its answer."""
        assert self.transport is not None
        self.chunks = []
        self.received = self.delimited = self.headers_done = False
        self.answer = self.loop.create_future()
        self.transport.write(data)
        return self.answer

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.answer is None or self.answer.done():
            self.close()  # bytes while no request is out (a late 408...): not reusable
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionClosed(f"malformed HTTP answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.headers_done and not self.delimited:
            self._complete()  # a body that ends with the connection
        else:
            self._fail(ConnectionClosed("the connection closed before the answer"))

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.delimited = True

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        self.headers_done = False
        self._complete()

    def _complete(self) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_result((self.parser.get_status_code(), b"".join(self.chunks)))

    def _fail(self, error: Exception) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(error)


class _Pool:
    """Keep-alive connections to one subgraph URL."""

    def __init__(self, url: str, max_connections: int, max_idle: int, idle_expiry: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.host = parts.hostname
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.head = (
            f"POST {target} HTTP/1.1\r\nHost: {parts.netloc.rpartition('@')[2]}\r\n"
            "Content-Type: application/json\r\n"
            "Accept: application/graphql-response+json, application/json\r\n"
        ).encode("latin-1")
        self.slots = asyncio.Semaphore(max_connections)
        self.max_idle = max_idle
        self.idle_expiry = idle_expiry
        self.idle: deque[_Connection] = deque()
        self.busy: set[_Connection] = set()

    async def post(
        self, body: bytes, headers: Mapping[str, str], replayable: bool, deadline: float
    ) -> tuple[int, bytes]:
        """The status and body answering a POST of ``body`` (raises OSError, and TimeoutError
        when no answer came by ``deadline``, in the event loop's time)."""
        data = self._request(body, headers)
        if self.slots.locked():
            async with asyncio.timeout_at(deadline):
                await self.slots.acquire()
        else:
            await self.slots.acquire()  # at once: no timer needed
        try:
            while True:
                connection, reused = await self._acquire(deadline)
                try:
                    status, content = await _by(deadline, connection.request(data))
                except ConnectionClosed:
                    connection.close()
                    # A server may close a kept-alive connection as the request leaves: what
                    # it never read may be sent again, once, on a new connection.
                    if reused and replayable and not connection.received:
                        continue
                    raise
                except BaseException:
                    connection.close()  # its answer may still come: it cannot serve another
                    raise
                finally:
                    self.busy.discard(connection)
                self._release(connection)
                return status, content
        finally:
            self.slots.release()

    def _request(self, body: bytes, headers: Mapping[str, str]) -> bytes:
        lines = ""
        for name, value in headers.items():
            if "\r" in value or "\n" in value:
                raise ValueError(f"the {name} header holds a line break")
            lines += f"{name}: {value}\r\n"
        return b"%s%sContent-Length: %d\r\n\r\n%s" % (
            self.head,
            lines.encode("latin-1"),
            len(body),
            body,
        )

    async def _acquire(self, deadline: float) -> tuple[_Connection, bool]:
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self.idle:
            connection = self.idle.pop()
            if connection.closed or now - connection.idle_since > self.idle_expiry:
                connection.close()
                continue
            self.busy.add(connection)
            return connection, True
        async with asyncio.timeout_at(deadline):
            _, connection = await loop.create_connection(
                lambda: _Connection(loop),
                self.host,
                self.port,
                ssl=_tls_context() if self.tls else None,
            )
        self.busy.add(connection)
        return connection, False

    def _release(self, connection: _Connection) -> None:
        while self.idle and self.idle[0].closed:  # closed by the server while idle
            self.idle.popleft()
        if connection.closed or not connection.keep_alive or len(self.idle) >= self.max_idle:
            connection.close()
            return
        connection.idle_since = connection.loop.time()
        self.idle.append(connection)

    def close(self) -> None:
        for connection in (*self.idle, *self.busy):
            connection.close()
        self.idle.clear()
        self.busy.clear()


def _expire(answer: asyncio.Future[tuple[int, bytes]]) -> None:
    if not answer.done():
        answer.set_exception(TimeoutError())


async def _by(deadline: float, answer: asyncio.Future[tuple[int, bytes]]) -> tuple[int, bytes]:
    """``answer``, or TimeoutError at ``deadline``: one timer on the future, where
    ``asyncio.timeout`` would cost a task cancellation scope per request."""
    timer = answer.get_loop().call_at(deadline, _expire, answer)
    try:
        return await answer
    finally:
        timer.cancel()


_tls: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    global _tls
    if _tls is None:
        _tls = ssl.create_default_context()
    return _tls


class SubgraphHttp:
    """Posts GraphQL requests to subgraphs over pooled HTTP/1.1 connections."""

    def __init__(
        self,
        timeout: float = 10.0,
        max_connections: int = 100,
        max_keepalive: int = 20,
        keepalive_expiry: float = 4.0,
    ) -> None:
        self.timeout = timeout
        self.max_connections = max_connections
        self.max_keepalive = max_keepalive
        self.keepalive_expiry = keepalive_expiry
        self._pools: dict[str, _Pool] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def _pool(self, url: str) -> _Pool:
        pool = self._pools.get(url)
        if pool is None:
            pool = _Pool(url, self.max_connections, self.max_keepalive, self.keepalive_expiry)
            self._pools[url] = pool
        return pool

    async def fetch(
        self,
        subgraph: str,
        url: str,
        query: str,
        variables: Mapping[str, Any],
        headers: Mapping[str, str],
    ) -> Json:
        """The JSON answer of ``subgraph`` at ``url`` (raises :class:`SubgraphError`)."""
        body = orjson.dumps(
            {"query": query, "variables": variables} if variables else {"query": query}
        )
        deadline = asyncio.get_running_loop().time() + self.timeout
        try:
            status, content = await self._pool(url).post(
                body, headers, not query.startswith("mutation"), deadline
            )
        except TimeoutError:
            raise SubgraphError(
                subgraph,
                f'subgraph "{subgraph}" did not answer within {self.timeout}s',
                "SUBGRAPH_TIMEOUT",
            ) from None
        except (OSError, ValueError) as exc:
            raise SubgraphError(
                subgraph, f'subgraph "{subgraph}" is unavailable: {exc!r}', "SUBGRAPH_UNAVAILABLE"
            ) from None
        try:
            answer = orjson.loads(content)
        except orjson.JSONDecodeError:
            answer = None
        if not isinstance(answer, dict) or ("data" not in answer and "errors" not in answer):
            raise SubgraphError(
                subgraph,
                f'subgraph "{subgraph}" answered HTTP {status} without a GraphQL response',
                "SUBGRAPH_BAD_RESPONSE",
            )
        return answer

    def retain(self, urls: set[str], grace: float) -> None:
        """Close the pools of URLs no longer in the supergraph, after ``grace`` seconds (the
        requests still running on the previous supergraph finish on them)."""
        gone = [self._pools.pop(u) for u in list(self._pools) if u not in urls]
        if not gone:
            return

        async def close_later() -> None:
            await asyncio.sleep(grace)
            for pool in gone:
                pool.close()

        try:
            task = asyncio.get_running_loop().create_task(close_later())
        except RuntimeError:  # no loop (a load at start-up): nothing is using them
            return
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
