"""The keep-alive form POSTs the sender calls Twilio with, against a real HTTP server: answers
with a length, chunked, empty or closing the connection are read whole; a connection is
reused only when the server keeps it open; one that breaks mid-answer is reported as lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qsl

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from nudges_consumers.adapters.form_posts import ConnectionLost, FormPoster
from nudges_emulators.serving import ServerThread, serve_in_thread


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode()))
        return JSONResponse({"form": form, "auth": request.headers.get("authorization")}, 201)

    @app.post("/chunked")
    async def chunked() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            yield b'{"sid": '
            yield b'"SM1"}'

        return StreamingResponse(parts(), media_type="application/json")

    @app.post("/empty")
    async def empty() -> Response:
        return Response(status_code=204)

    @app.post("/closing")
    async def closing() -> JSONResponse:
        return JSONResponse({"code": 20429}, 429, headers={"Connection": "close"})

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with serve_in_thread(_app()) as running:
        yield running


async def test_answers_are_read_whole_and_connections_reused(server: ServerThread) -> None:
    poster = FormPoster(f"{server.url}/echo", {"Authorization": "Basic dGVzdA=="})
    try:
        answers = [await poster.post(b"To=%2B14155550100&Body=Hi+%26+bye") for _ in range(3)]
        assert {a.status for a in answers} == {201}
        assert answers[0].body == (
            b'{"form":{"To":"+14155550100","Body":"Hi & bye"},"auth":"Basic dGVzdA=="}'
        )
        assert len(poster._idle) == 1, "one connection, reused"
        # Concurrent posts open connections of their own, kept for the next ones.
        await asyncio.gather(*(poster.post(b"To=1") for _ in range(5)))
        assert len(poster._idle) == 5
    finally:
        await poster.close()


@pytest.mark.parametrize(
    ("path", "status", "body", "kept"),
    [
        ("/chunked", 200, b'{"sid": "SM1"}', 1),
        ("/empty", 204, b"", 1),
        ("/closing", 429, b'{"code":20429}', 0),
    ],
)
async def test_every_kind_of_answer(
    server: ServerThread, path: str, status: int, body: bytes, kept: int
) -> None:
    poster = FormPoster(f"{server.url}{path}", {})
    try:
        for _ in range(2):
            answer = await poster.post(b"To=1")
            assert (answer.status, answer.body) == (status, body)
        assert len(poster._idle) == kept
    finally:
        await poster.close()


async def test_a_connection_closed_mid_answer_is_lost() -> None:
    async def half_an_answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()
        writer.close()

    listening = await asyncio.start_server(half_an_answer, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    poster = FormPoster(f"http://127.0.0.1:{port}/x", {})
    try:
        with pytest.raises(ConnectionLost):
            await poster.post(b"To=1")
        assert poster._idle == []
    finally:
        listening.close()
        await poster.close()
