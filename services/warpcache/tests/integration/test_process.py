"""``nudges-warpcache`` as deployed: one process serving gRPC and HTTP, ready only when
gRPC serves, stopping cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import httpx

from nudges_devstack.infra import free_port
from nudges_kit.settings import development_warpcache_token
from nudges_kit.warpcache import WarpCacheClient


async def test_one_process_serves_grpc_and_http_and_stops_on_sigterm() -> None:
    grpc_port, http_port = free_port(), free_port()
    env = {
        **os.environ,
        "GRPC_PORT": str(grpc_port),
        "HTTP_PORT": str(http_port),
        "ENVIRONMENT": "test",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nudges_warpcache.main",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as http:
            for _ in range(300):
                try:
                    ready = await http.get("/readyz")
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
                    continue
                break
            assert ready.status_code == 200
            assert ready.json()["checks"] == {"grpc": "ok"}

            token = development_warpcache_token("auth")
            async with WarpCacheClient(f"127.0.0.1:{grpc_port}", token=token) as cache:
                await cache.set("otp:client:x", b"123456", ttl_seconds=300)
                assert await cache.get_and_delete("otp:client:x") == b"123456"

            metrics = (await http.get("/metrics")).text
            assert "warpcache_hits_total 1.0" in metrics
            assert "warpcache_entries 0.0" in metrics

        process.send_signal(signal.SIGTERM)
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
        except TimeoutError:
            process.kill()
            output, _ = await process.communicate()
            raise AssertionError("still running 20 s after SIGTERM:\n" + output.decode()) from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0, output.decode()
    assert b"warpcache.stopped" in output
