"""Gateway benchmark: throughput and latency of one federated query spanning three subgraphs,
through the Nudges gateway and through Apollo Gateway (Node) on the same subgraphs.

    make bench-gateway            # or: uv run python bench/gateway_vs_apollo.py [--seconds 10]

Three Strawberry subgraphs (products, inventory, reviews: the gateway's test subgraphs) run
as processes of their own; their supergraph is composed by GraphMonitor's composition and
served by both gateways. A Python load generator (httpx, N concurrent clients on loopback)
runs for a bounded time against each gateway in turn, after a warm-up, and checks that both
answer the same data. Apollo Gateway comes from ``bench/apollo`` (``npm ci`` there); when it
cannot be run, the Nudges figures are printed with the reason. Each gateway is one process.
The last line is JSON: each gateway's req/s, p99 and CPU per request, and
``ratio_vs_apollo_gateway`` (the Nudges gateway's req/s over Apollo Gateway's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SUBGRAPHS = ("products", "inventory", "reviews")
QUERY = """query Bench {
  topProducts(first: 3) {
    upc name price
    stock inStock shippingEstimate(zone: "europe")
    reviews { body stars }
  }
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout: float = 60.0, body: dict[str, object] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.post(url, json=body or {"query": "{ __typename }"}, timeout=2)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` so far (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_subgraph(name: str, port: int) -> None:
    """Run one test subgraph with uvicorn (this script's --serve mode)."""
    import uvicorn
    from strawberry.asgi import GraphQL

    sys.path.insert(0, str(ROOT / "gateway" / "tests"))
    module = __import__(f"subgraphs.{name}", fromlist=["schema"])
    uvicorn.run(GraphQL(module.schema), host="127.0.0.1", port=port, log_level="warning")


@dataclass
class Figures:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    #: CPU seconds the gateway process used while under load (None: unknown).
    cpu: float | None = None

    #: Set when merged from rounds: the median of their throughputs.
    median_throughput: float | None = None

    @property
    def throughput(self) -> float:
        if self.median_throughput is not None:
            return self.median_throughput
        return self.requests / self.seconds

    @classmethod
    def merge(cls, name: str, runs: list[Figures]) -> Figures:
        return cls(
            name,
            sum(r.requests for r in runs),
            sum(r.errors for r in runs),
            sum(r.seconds for r in runs),
            [latency for r in runs for latency in r.latencies],
            None if any(r.cpu is None for r in runs) else sum(r.cpu or 0 for r in runs),
            statistics.median(r.throughput for r in runs),
        )

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def cpu_per_request_ms(self) -> float | None:
        return None if self.cpu is None else self.cpu / max(self.requests, 1) * 1000

    def line(self) -> str:
        cpu = self.cpu_per_request_ms
        return (
            f"{self.name:<16} {self.throughput:>9.0f} req/s   p50 {self.percentile(0.5):>7.2f} ms"
            f"   p99 {self.percentile(0.99):>7.2f} ms   gateway CPU "
            + (f"{cpu:.2f} ms/req" if cpu is not None else "n/a")
            + f"   requests {self.requests}   errors {self.errors}"
        )


async def load(
    name: str, url: str, seconds: float, concurrency: int, warmup: int, pid: int
) -> Figures:
    """``concurrency`` clients posting QUERY for ``seconds`` (after ``warmup`` requests);
    ``pid`` is the gateway's process, whose CPU time is measured meanwhile."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    body = {"query": QUERY, "operationName": "Bench"}
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        for _ in range(warmup):
            (await client.post(url, json=body)).raise_for_status()
        latencies: list[float] = []
        errors = 0
        deadline = time.perf_counter() + seconds

        async def client_loop() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.post(url, json=body)
                    ok = response.status_code == 200 and "errors" not in response.json()
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        started = time.perf_counter()
        cpu_before = cpu_seconds(pid)
        await asyncio.gather(*(client_loop() for _ in range(concurrency)))
        cpu_after = cpu_seconds(pid)
        elapsed = time.perf_counter() - started
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Figures(name, len(latencies), errors, elapsed, latencies, cpu)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 8)))
    parser.add_argument(
        "--concurrency", type=int, default=int(os.environ.get("BENCH_CONCURRENCY", 16))
    )
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    parser.add_argument("--serve", nargs=2, metavar=("SUBGRAPH", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_subgraph(args.serve[0], int(args.serve[1]))
        return 0

    from nudges_registry.domain.composition import SubgraphSource, compose

    processes: list[subprocess.Popen[bytes]] = []
    workdir = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    try:
        urls: dict[str, str] = {}
        for name in SUBGRAPHS:
            port = free_port()
            processes.append(
                subprocess.Popen([sys.executable, __file__, "--serve", name, str(port)])  # noqa: S603
            )
            urls[name] = f"http://127.0.0.1:{port}/graphql"
        sdls = {}
        for name, url in urls.items():
            wait_for(url)
            answer = httpx.post(url, json={"query": "{ _service { sdl } }"}).json()
            sdls[name] = answer["data"]["_service"]["sdl"]
        composition = compose([SubgraphSource(n, urls[n], sdls[n]) for n in SUBGRAPHS])
        assert composition.ok, composition.errors
        supergraph = workdir / "supergraph.graphql"
        supergraph.write_text(composition.supergraph_sdl or "")

        ours_port = free_port()
        env = {
            **os.environ,
            "SUPERGRAPH_PATH": str(supergraph),
            "HTTP_PORT": str(ours_port),
            "LOG_LEVEL": "WARNING",
            "ENVIRONMENT": "test",
            "MAX_COST": "100000",
        }
        processes.append(
            subprocess.Popen([str(Path(sys.executable).parent / "nudges-gateway")], env=env)  # noqa: S603
        )
        ours_pid = processes[-1].pid
        ours_url = f"http://127.0.0.1:{ours_port}/graphql"
        wait_for(ours_url)

        apollo_url: str | None = None
        apollo_pid = 0
        apollo_missing = ""
        apollo_dir = ROOT / "bench" / "apollo"
        node = shutil.which("node")
        if node is None:
            apollo_missing = "node is not installed"
        elif not (apollo_dir / "node_modules" / "@apollo" / "gateway").exists():
            apollo_missing = "bench/apollo/node_modules is missing (run `npm ci` in bench/apollo)"
        else:
            apollo_port = free_port()
            processes.append(
                subprocess.Popen(  # noqa: S603
                    [node, str(apollo_dir / "gateway.mjs"), str(supergraph), str(apollo_port)],
                    stdout=subprocess.DEVNULL,
                )
            )
            apollo_pid = processes[-1].pid
            apollo_url = f"http://127.0.0.1:{apollo_port}/"
            try:
                wait_for(apollo_url)
            except TimeoutError as exc:
                apollo_missing, apollo_url = f"Apollo Gateway did not start: {exc}", None

        reference = httpx.post(ours_url, json={"query": QUERY}).json()
        assert "errors" not in reference, reference
        if apollo_url:
            answer = httpx.post(apollo_url, json={"query": QUERY}).json()
            assert answer == reference, f"the gateways disagree:\n{reference}\n{answer}"

        print(
            f"Federated query over 3 subgraphs (products, inventory, reviews); "
            f"{args.concurrency} concurrent clients, {args.rounds} rounds of {args.seconds:.0f} s "
            "each, alternating, loopback, "
            f"{os.cpu_count()} cores shared by load generator, gateway and subgraphs; "
            "each gateway is one process (uvicorn on uvloop; Node)."
        )
        targets = [("nudges-gateway", ours_url, ours_pid)]
        if apollo_url is not None:
            targets.append(("apollo-gateway", apollo_url, apollo_pid))
        rounds: dict[str, list[Figures]] = {name: [] for name, _, _ in targets}
        for number in range(args.rounds):
            # Alternate the order, so that neither gateway always runs on a warmer machine.
            for name, url, pid in targets if number % 2 == 0 else list(reversed(targets)):
                figures = asyncio.run(
                    load(name, url, args.seconds, args.concurrency, args.warmup, pid)
                )
                rounds[name].append(figures)
                print(f"  round {number + 1}: {figures.line()}")
        merged = {name: Figures.merge(name, runs) for name, runs in rounds.items()}
        print(f"over {args.rounds} rounds (median throughput, latencies pooled):")
        for figures in merged.values():
            print(figures.line())
        ours = merged["nudges-gateway"]
        summary: dict[str, object] = {
            "nudges_gateway_req_s": round(ours.throughput, 1),
            "nudges_gateway_p99_ms": round(ours.percentile(0.99), 2),
            "nudges_gateway_cpu_ms_per_req": _rounded(ours.cpu_per_request_ms),
        }
        if apollo_url is None:
            print(f"apollo-gateway   not measured: {apollo_missing}")
            print(json.dumps({**summary, "ratio_vs_apollo_gateway": None}))
            return 0
        theirs = merged["apollo-gateway"]
        throughput = ours.throughput / theirs.throughput
        p99 = ours.percentile(0.99) / theirs.percentile(0.99)
        p50 = ours.percentile(0.5) / theirs.percentile(0.5)
        cpu = (
            f", gateway CPU per request {ours.cpu_per_request_ms / theirs.cpu_per_request_ms:.2f}x"
            if ours.cpu_per_request_ms and theirs.cpu_per_request_ms
            else ""
        )
        print(
            f"ratio (nudges / apollo): throughput {throughput:.2f}x, "
            f"p99 latency {p99:.2f}x, p50 latency {p50:.2f}x{cpu}"
        )
        summary.update(
            apollo_gateway_req_s=round(theirs.throughput, 1),
            apollo_gateway_p99_ms=round(theirs.percentile(0.99), 2),
            apollo_gateway_cpu_ms_per_req=_rounded(theirs.cpu_per_request_ms),
            ratio_vs_apollo_gateway=round(throughput, 3),
        )
        print(json.dumps(summary))
        return 0
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
