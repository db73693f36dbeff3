"""The subgraph client over a scripted HTTP/1.1 server: connections are kept alive and reused,
answers are read whatever their framing, a kept-alive connection the server closes is
replaced (a query sent again, a mutation not), and failures are SubgraphErrors by kind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import orjson
import pytest

from nudges_gateway.adapters.subgraph_http import SubgraphError, SubgraphHttp

ANSWER = b'{"data":{"ok":true}}'

#: (request number on its connection, request bytes) -> what the server writes (None: close).
Script = Callable[[int, bytes], bytes | None]


def answer(body: bytes = ANSWER, status: str = "200 OK") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        status.encode(),
        len(body),
        body,
    )


@dataclass
class Server:
    url: str
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)


@asynccontextmanager
async def serving(script: Script) -> AsyncIterator[Server]:
    server = Server("")
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.connections += 1
        writers.append(writer)
        number = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                request = head + await reader.readexactly(length)
                server.requests.append(request)
                number += 1
                reply = script(number, request)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if reply.startswith(b"HTTP/1.0") or b"Connection: close" in reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    listening = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    server.url = f"http://127.0.0.1:{port}/graphql"
    try:
        yield server
    finally:
        listening.close()
        for writer in writers:
            writer.close()
        await asyncio.sleep(0.05)  # the client sees the connections close


async def test_connections_are_kept_alive_and_the_request_is_json() -> None:
    http = SubgraphHttp()
    async with serving(lambda _, __: answer()) as server:
        for _ in range(3):
            got = await http.fetch(
                "users", server.url, "query { ok }", {"n": 1}, {"authorization": "Bearer t"}
            )
            assert got == {"data": {"ok": True}}
    await http.close()
    assert server.connections == 1
    head, body = server.requests[0].split(b"\r\n\r\n")
    assert head.startswith(b"POST /graphql HTTP/1.1\r\n")
    assert b"\r\nContent-Type: application/json\r\n" in head
    assert b"\r\nauthorization: Bearer t\r\n" in head
    assert orjson.loads(body) == {"query": "query { ok }", "variables": {"n": 1}}


async def test_concurrent_requests_use_connections_of_their_own() -> None:
    http = SubgraphHttp()
    async with serving(lambda _, __: answer()) as server:
        answers = await asyncio.gather(
            *(http.fetch("users", server.url, "{ ok }", {}, {}) for _ in range(5))
        )
    await http.close()
    assert answers == [{"data": {"ok": True}}] * 5
    assert server.connections == 5


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'6\r\n{"data\r\n' + b"%x\r\n%s\r\n0\r\n\r\n" % (len(ANSWER) - 6, ANSWER[6:]),
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + ANSWER,
        b"HTTP/1.0 200 OK\r\n\r\n" + ANSWER,
    ],
    ids=["chunked", "until-close", "http-1.0"],
)
async def test_answers_are_read_whatever_their_framing(reply: bytes) -> None:
    http = SubgraphHttp()
    async with serving(lambda _, __: reply) as server:
        first = await http.fetch("users", server.url, "{ ok }", {}, {})
        second = await http.fetch("users", server.url, "{ ok }", {}, {})
    await http.close()
    assert first == second == {"data": {"ok": True}}


async def test_a_kept_alive_connection_closed_by_the_server_is_replaced_for_a_query() -> None:
    http = SubgraphHttp()
    # The second request on a connection meets the server closing it without an answer.
    async with serving(lambda number, _: answer() if number == 1 else None) as server:
        assert await http.fetch("users", server.url, "{ ok }", {}, {})
        assert await http.fetch("users", server.url, "query { ok }", {}, {})
        with pytest.raises(SubgraphError) as refused:
            await http.fetch("users", server.url, "mutation { ok }", {}, {})
    await http.close()
    assert refused.value.code == "SUBGRAPH_UNAVAILABLE"
    assert server.connections == 2
    # the mutation was sent once: not again on a new connection
    assert sum(b"mutation" in request for request in server.requests) == 1


async def test_a_slow_subgraph_times_out_and_its_connection_is_not_reused() -> None:
    http = SubgraphHttp(timeout=0.2)
    slow = asyncio.Event()

    def script(_: int, request: bytes) -> bytes | None:
        if b"slow" in request:
            slow.set()
            return b""  # answers nothing
        return answer()

    async with serving(script) as server:
        with pytest.raises(SubgraphError) as timed_out:
            await http.fetch("users", server.url, "{ slow }", {}, {})
        assert await http.fetch("users", server.url, "{ ok }", {}, {})
    await http.close()
    assert timed_out.value.code == "SUBGRAPH_TIMEOUT"
    assert server.connections == 2


async def test_a_request_waiting_for_a_connection_times_out_too() -> None:
    http = SubgraphHttp(timeout=0.6, max_connections=1)

    def script(_: int, request: bytes) -> bytes | None:
        return b"" if b"slow" in request else answer()  # the slow one answers nothing

    async with serving(script) as server:
        slow = asyncio.ensure_future(http.fetch("users", server.url, "{ slow }", {}, {}))
        await asyncio.sleep(0.1)  # the only connection is taken until the slow one times out
        http.timeout = 0.2
        with pytest.raises(SubgraphError) as waiting:
            await http.fetch("users", server.url, "{ ok }", {}, {})
        with pytest.raises(SubgraphError) as first:
            await slow
        assert await http.fetch("users", server.url, "{ ok }", {}, {})
    await http.close()
    assert (waiting.value.code, first.value.code) == ("SUBGRAPH_TIMEOUT", "SUBGRAPH_TIMEOUT")
    assert sum(b"{ ok }" in request for request in server.requests) == 1


async def test_failures_are_subgraph_errors_by_kind() -> None:
    http = SubgraphHttp()
    async with serving(lambda _, __: answer(b"<html>oops</html>", "502 Bad Gateway")) as server:
        with pytest.raises(SubgraphError) as bad:
            await http.fetch("users", server.url, "{ ok }", {}, {})
        with pytest.raises(SubgraphError) as odd_header:
            await http.fetch("users", server.url, "{ ok }", {}, {"authorization": "a\r\nb: c"})
        url = server.url
    with pytest.raises(SubgraphError) as refused:
        await http.fetch("users", url, "{ ok }", {}, {})
    await http.close()
    assert (bad.value.code, bad.value.subgraph) == ("SUBGRAPH_BAD_RESPONSE", "users")
    assert "HTTP 502" in str(bad.value)
    assert odd_header.value.code == "SUBGRAPH_UNAVAILABLE"
    assert refused.value.code == "SUBGRAPH_UNAVAILABLE"
    assert not any(b"b: c" in request for request in server.requests)
