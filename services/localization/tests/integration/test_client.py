"""The kit's LocalizationClient against gRPC servers that misbehave: retries on UNAVAILABLE,
deadlines, one channel for every call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc import aio

from nudges_devstack.infra import free_port
from nudges_kit._generated.localization.v1 import localization_pb2 as pb
from nudges_kit._generated.localization.v1 import localization_pb2_grpc as pb_grpc
from nudges_kit.localization import LocalizationClient, LocalizationUnavailable


class FlakyLocalization(pb_grpc.LocalizationServiceServicer):
    """Answers UNAVAILABLE ``failures`` times, then renders; or never answers in time."""

    def __init__(self, failures: int = 0, delay: float = 0.0) -> None:
        self.failures = failures
        self.delay = delay
        self.calls = 0

    async def Render(self, request: pb.RenderRequest, context: Any) -> pb.RenderResponse:
        self.calls += 1
        if self.calls <= self.failures:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
        await asyncio.sleep(self.delay)
        return pb.RenderResponse(text=f"{request.key}@{request.locale}", locale="en")

    async def RenderMany(
        self, request: pb.RenderManyRequest, context: Any
    ) -> pb.RenderManyResponse:
        self.calls += 1
        return pb.RenderManyResponse(
            renderings={
                loc: pb.Rendering(text=f"{request.key}@{loc}", locale="en")
                for loc in request.locales
            }
        )


async def serve(servicer: FlakyLocalization) -> tuple[aio.Server, str]:
    server = aio.server()
    pb_grpc.add_LocalizationServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"


@pytest.fixture
async def flaky() -> AsyncIterator[tuple[FlakyLocalization, str]]:
    servicer = FlakyLocalization(failures=2)
    server, target = await serve(servicer)
    yield servicer, target
    await server.stop(None)


async def test_unavailable_is_retried_until_it_answers(
    flaky: tuple[FlakyLocalization, str],
) -> None:
    servicer, target = flaky
    async with LocalizationClient(target, attempts=3) as client:
        assert await client.render("otp.code", "fr", code="1", minutes=5) == "otp.code@fr"

    assert servicer.calls == 3


async def test_unavailable_past_the_attempts_raises(flaky: tuple[FlakyLocalization, str]) -> None:
    servicer, target = flaky
    async with LocalizationClient(target, attempts=2) as client:
        with pytest.raises(LocalizationUnavailable):
            await client.render("otp.code", "fr")

    assert servicer.calls == 2


async def test_no_server_is_unavailable() -> None:
    async with LocalizationClient(f"127.0.0.1:{free_port()}", timeout=0.5, attempts=2) as client:
        with pytest.raises(LocalizationUnavailable):
            await client.render("otp.code", "en")


async def test_every_call_has_a_deadline_and_is_not_retried_past_it() -> None:
    servicer = FlakyLocalization(delay=2.0)
    server, target = await serve(servicer)
    try:
        async with LocalizationClient(target, timeout=0.2) as client:
            started = time.monotonic()
            with pytest.raises(LocalizationUnavailable):
                await client.render("otp.code", "en")
            assert time.monotonic() - started < 1.5
        assert servicer.calls == 1
    finally:
        await server.stop(None)


async def test_one_channel_serves_every_call_until_closed(
    flaky: tuple[FlakyLocalization, str],
) -> None:
    servicer, target = flaky
    servicer.failures = 0
    client = LocalizationClient(target)
    await client.render("a", "en")
    channel = client._channel
    assert await client.render_many("b", ["en", "fr", "en"]) == {"en": "b@en", "fr": "b@fr"}
    assert client._channel is channel

    await client.close()
    assert client._channel is None
    assert await client.render("c", "de") == "c@de"
    await client.close()
