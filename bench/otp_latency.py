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

import httpx

from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.platform import Platform


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


async def one_login(http: httpx.AsyncClient, n: int) -> float:
    phone = f"+1415{5550000 + n:07d}"
    started = time.perf_counter()
    asked = await http.post("/auth/otp", json={"phone": phone, "role": "subscriber"})
    asked.raise_for_status()
    verified = await http.post(
        "/auth/otp/verify",
        json={"phone": phone, "code": asked.json()["code"], "role": "subscriber"},
    )
    verified.raise_for_status()
    assert verified.json()["access_token"]
    return time.perf_counter() - started


async def load(base_url: str, users: int, rate: float) -> tuple[list[float], float, int]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    # A browser sends its languages; without them AuthApi asks UserApi for a stored locale.
    headers = {"Accept-Language": "en-US,en;q=0.9"}
    async with httpx.AsyncClient(
        base_url=base_url, timeout=10, limits=limits, headers=headers
    ) as http:
        await one_login(http, users + 1)  # warm-up: keys, channels, connections
        started = time.perf_counter()
        tasks = []
        for n in range(users):
            # Open-loop arrivals at the target rate, whatever the latency.
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one_login(http, n)))
        results = await asyncio.gather(*tasks, return_exceptions=True)
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
            latencies, elapsed, errors = asyncio.run(
                load(platform.url("auth"), args.users, args.rate)
            )
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
    }
    print(
        f"OTP request -> token: {summary['users']} users at {args.rate:g}/s target, "
        f"{summary['achieved_rate']}/s achieved, {errors} errors; "
        f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms (goal: p99 <= 50 ms)"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
