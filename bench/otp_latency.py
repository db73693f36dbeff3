"""OTP request-to-token latency under load: simulated users each request a code and verify
it against a real AuthApi (with WarpCache, LocalizationApi and the broker), arriving at a
target rate. The last line printed is one JSON object with the figures."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.platform import Platform
from nudges_devstack.procstat import cpu_seconds, peak_rss_mib, profiled


class OtpPlatform(Platform):
    """AuthApi and what it needs, with the per-address limit lifted: every simulated user
    comes from 127.0.0.1."""

    def url(self, name: str, path: str = "") -> str:
        # Services this bench does not start are never called.
        return super().url(name, path) if name in self.ports else f"http://127.0.0.1:9{path}"

    def env(self, name: str) -> dict[str, str]:
        env = super().env(name)
        if name == "auth":
            env["OTP_PER_IP_LIMIT"] = "1000000"
        return env


async def one_login(http: aiohttp.ClientSession, n: int) -> float:
    phone = f"+1415{5550000 + n:07d}"
    started = time.perf_counter()
    async with http.post("/auth/otp", json={"phone": phone, "role": "subscriber"}) as asked:
        asked.raise_for_status()
        code = (await asked.json())["code"]
    async with http.post(
        "/auth/otp/verify", json={"phone": phone, "code": code, "role": "subscriber"}
    ) as verified:
        verified.raise_for_status()
        assert (await verified.json())["access_token"]
    return time.perf_counter() - started


async def arrivals(http: aiohttp.ClientSession, first: int, count: int, rate: float) -> list[Any]:
    """``count`` logins started at ``rate`` per second (open loop: whatever the latency)."""
    started = time.perf_counter()
    tasks = []
    for n in range(count):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one_login(http, first + n)))
    return await asyncio.gather(*tasks, return_exceptions=True)


async def load(
    base_url: str, users: int, rate: float, warmup: int
) -> tuple[list[float], float, int]:
    # aiohttp: the load generator shares the machine's cores with the services it measures,
    # so it should cost them as little as possible. A browser sends its languages; without
    # them AuthApi asks UserApi for a stored locale.
    async with aiohttp.ClientSession(
        base_url=base_url,
        connector=aiohttp.TCPConnector(limit=64),
        timeout=aiohttp.ClientTimeout(total=10),
        headers={"Accept-Language": "en-US,en;q=0.9"},
    ) as http:
        # Warm-up at the same rate: keys, channels, connections, code paths.
        await arrivals(http, users, warmup, rate)
        started = time.perf_counter()
        results = await arrivals(http, 0, users, rate)
        elapsed = time.perf_counter() - started
    latencies = [r for r in results if isinstance(r, float)]
    return latencies, elapsed, len(results) - len(latencies)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rate", type=float, default=100.0, help="logins started per second")
    parser.add_argument("--warmup", type=int, default=20, help="logins before the measured ones")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="write a py-spy profile of each service process into this folder",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nudges-bench-otp-") as tmp:
        state = Path(tmp)
        postgres = Postgres.ensure(state / "postgres")
        broker = TansuBroker(free_port(), log_path=state / "tansu.log")
        broker.start()
        platform = OtpPlatform(
            postgres.url,
            broker.bootstrap_servers,
            state,
            services=("warpcache", "localization", "user", "auth"),
        )
        try:
            platform.start()
            services = {name: platform.pid(name) for name in platform.processes}
            pids = {**services, "load generator": os.getpid()}
            before = {name: cpu_seconds(pid) or 0.0 for name, pid in pids.items()}
            with profiled(services, args.profile):
                latencies, elapsed, errors = asyncio.run(
                    load(platform.url("auth"), args.users, args.rate, args.warmup)
                )
            logins = args.users + args.warmup
            cpu_ms = {
                name: round(((cpu_seconds(pid) or 0.0) - before[name]) * 1000 / logins, 2)
                for name, pid in pids.items()
            }
            rss_mib = {name: peak_rss_mib(pid) for name, pid in pids.items()}
        finally:
            platform.stop()
            broker.stop()
            postgres.stop()
    summary = {
        "users": args.users,
        "target_rate": args.rate,
        "achieved_rate": round(len(latencies) / elapsed, 1),
        "errors": errors,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "cpus": os.cpu_count(),
        "cpu_ms_per_login": cpu_ms,
        # The services a login runs through; the load generator is not one of them.
        "cpu_ms_per_login_total": round(sum(cpu_ms[name] for name in services), 2),
        "peak_rss_mib": rss_mib,
    }
    print(
        f"OTP request -> token: {summary['users']} users at {args.rate:g}/s target, "
        f"{summary['achieved_rate']}/s achieved, {errors} errors; "
        f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms (goal: p99 <= 50 ms)"
    )
    print(
        "CPU per login: "
        + ", ".join(f"{name} {ms} ms" for name, ms in cpu_ms.items())
        + f"; services summed {summary['cpu_ms_per_login_total']} ms (goal: <= 5 ms)"
        + f" (load average {os.getloadavg()[0]:.1f})"
    )
    print("peak RSS: " + ", ".join(f"{name} {mib} MiB" for name, mib in rss_mib.items()))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
