"""Gateway benchmark: throughput, latency and CPU per request of one federated query spanning
three subgraphs, through the Nudges gateway, Apollo Gateway and Hive Gateway (Node) on the
same subgraphs, in the same run.

    make bench-gateway            # or: uv run python bench/gateway_vs_apollo.py [--seconds 10]

Three Strawberry subgraphs (products, inventory, reviews: the gateway's test subgraphs) run
as processes of their own; their supergraph is composed by GraphMonitor's composition and
served by every gateway. A Python load generator (aiohttp, N concurrent clients on loopback)
runs for a bounded time against each gateway in turn, after a warm-up, and checks first that
all answer the same data. Apollo Gateway comes from ``bench/apollo`` and Hive Gateway from
``bench/hive`` (``npm ci`` there); one that cannot be run is left out with the reason. Each
gateway is one process. The CPU time of every process taking part (gateway, subgraphs, load
generator) is read from ``/proc`` and printed per request, and the peak RSS of each. The last
line is JSON: each gateway's req/s, p99 and CPU per request, ``ratio_vs_apollo_gateway`` and
``ratio_vs_hive_gateway`` (the Nudges gateway's req/s over theirs), the CPU per request of
each process under each gateway, and the peak RSS of each process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx

from nudges_devstack.procstat import cpu_seconds, peak_rss_mib

ROOT = Path(__file__).resolve().parent.parent
SUBGRAPHS = ("products", "inventory", "reviews")
QUERY = """query Bench {
  topProducts(first: 3) {
    upc name price
    stock inStock shippingEstimate(zone: "europe")
    reviews { body stars }
  }
}"""
NUDGES = "nudges-gateway"
APOLLO = "apollo-gateway"
HIVE = "hive-gateway"
LOAD_GENERATOR = "load generator"


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
    #: CPU seconds each process used while under load, by process name (None: unknown).
    cpu: dict[str, float | None] = field(default_factory=dict)

    #: Set when merged from rounds: the median of their throughputs.
    median_throughput: float | None = None

    @property
    def throughput(self) -> float:
        if self.median_throughput is not None:
            return self.median_throughput
        return self.requests / self.seconds

    @classmethod
    def merge(cls, name: str, runs: list[Figures]) -> Figures:
        cpu: dict[str, float | None] = {}
        for process in runs[0].cpu:
            spent = [r.cpu.get(process) for r in runs]
            cpu[process] = None if None in spent else sum(s or 0.0 for s in spent)
        return cls(
            name,
            sum(r.requests for r in runs),
            sum(r.errors for r in runs),
            sum(r.seconds for r in runs),
            [latency for r in runs for latency in r.latencies],
            cpu,
            statistics.median(r.throughput for r in runs),
        )

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def cpu_ms(self, process: str) -> float | None:
        """CPU milliseconds ``process`` spent per request."""
        spent = self.cpu.get(process)
        return None if spent is None else spent / max(self.requests, 1) * 1000

    @property
    def gateway_cpu_ms(self) -> float | None:
        return self.cpu_ms(self.name)

    @property
    def total_cpu_ms(self) -> float | None:
        each = [self.cpu_ms(p) for p in self.cpu]
        return None if not each or None in each else sum(e or 0.0 for e in each)

    def line(self) -> str:
        cpu = self.gateway_cpu_ms
        return (
            f"{self.name:<16} {self.throughput:>9.0f} req/s   p50 {self.percentile(0.5):>7.2f} ms"
            f"   p99 {self.percentile(0.99):>7.2f} ms   gateway CPU "
            + (f"{cpu:.2f} ms/req" if cpu is not None else "n/a")
            + f"   requests {self.requests}   errors {self.errors}"
        )

    def cpu_line(self) -> str:
        parts = [
            f"{p} {ms:.2f}" if (ms := self.cpu_ms(p)) is not None else f"{p} n/a" for p in self.cpu
        ]
        total = self.total_cpu_ms
        return (
            f"{'':<16} CPU ms/req: "
            + ", ".join(parts)
            + (f"; all {total:.2f}" if total is not None else "")
        )


async def load(
    name: str, url: str, seconds: float, concurrency: int, warmup: int, pids: dict[str, int]
) -> Figures:
    """``concurrency`` clients posting QUERY for ``seconds`` (after ``warmup`` requests); the
    CPU time of each process of ``pids`` (and of this one) is measured meanwhile."""
    body = json.dumps({"query": QUERY, "operationName": "Bench"}).encode()
    headers = {"content-type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        for _ in range(warmup):
            async with client.post(url, data=body, headers=headers) as response:
                response.raise_for_status()
                await response.read()
        latencies: list[float] = []
        errors = 0
        deadline = time.perf_counter() + seconds

        async def client_loop() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    async with client.post(url, data=body, headers=headers) as response:
                        answer = await response.read()
                    ok = response.status == 200 and b'"errors"' not in answer
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        started = time.perf_counter()
        before = {process: cpu_seconds(pid, children=True) for process, pid in pids.items()}
        own_before = time.process_time()
        await asyncio.gather(*(client_loop() for _ in range(concurrency)))
        own_after = time.process_time()
        after = {process: cpu_seconds(pid, children=True) for process, pid in pids.items()}
        elapsed = time.perf_counter() - started
    cpu: dict[str, float | None] = {}
    for process in pids:
        first, last = before[process], after[process]
        cpu[process] = None if first is None or last is None else last - first
    cpu[LOAD_GENERATOR] = own_after - own_before
    return Figures(name, len(latencies), errors, elapsed, latencies, cpu)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass
class Gateway:
    """A gateway under test: where it answers, its process, or why it does not run."""

    name: str
    url: str | None = None
    pid: int = 0
    missing: str = ""


def start_node_gateway(
    name: str,
    directory: Path,
    package: str,
    command: list[str],
    url: str,
    workdir: Path,
    processes: list[subprocess.Popen[bytes]],
) -> Gateway:
    """Start a Node gateway installed in ``directory`` (``npm ci``) with ``command``, in
    ``workdir``, to answer at ``url``."""
    if shutil.which("node") is None:
        return Gateway(name, missing="node is not installed")
    if not (directory / "node_modules" / package).exists():
        return Gateway(
            name,
            missing=f"{directory.relative_to(ROOT)}/node_modules is missing "
            f"(run `npm ci` in {directory.relative_to(ROOT)})",
        )
    output = workdir / f"{name}.log"
    with output.open("wb") as log:
        processes.append(
            subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        )
    try:
        wait_for(url)
    except TimeoutError as exc:
        processes[-1].terminate()
        said = output.read_text(errors="replace").strip().splitlines()[-3:]
        return Gateway(name, missing=f"it did not start: {exc}; {' / '.join(said)}")
    return Gateway(name, url, processes[-1].pid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 8)))
    parser.add_argument(
        "--concurrency", type=int, default=int(os.environ.get("BENCH_CONCURRENCY", 16))
    )
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    parser.add_argument(
        "--gateways",
        default=",".join((NUDGES, APOLLO, HIVE)),
        help="the gateways to measure, comma-separated (nudges-gateway is always measured)",
    )
    parser.add_argument(
        "--hive-deduplicate",
        action="store_true",
        help="let Hive Gateway share identical subgraph queries in flight (its default)",
    )
    parser.add_argument("--serve", nargs=2, metavar=("SUBGRAPH", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_subgraph(args.serve[0], int(args.serve[1]))
        return 0

    from nudges_registry.domain.composition import SubgraphSource, compose

    wanted = set(args.gateways.split(",")) | {NUDGES}
    processes: list[subprocess.Popen[bytes]] = []
    workdir = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    try:
        urls: dict[str, str] = {}
        pids: dict[str, int] = {}
        for name in SUBGRAPHS:
            port = free_port()
            processes.append(
                subprocess.Popen([sys.executable, __file__, "--serve", name, str(port)])  # noqa: S603
            )
            urls[name] = f"http://127.0.0.1:{port}/graphql"
            pids[name] = processes[-1].pid
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
        os.environ["HIVE_DEDUPLICATE_INFLIGHT"] = "1" if args.hive_deduplicate else "0"
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
        gateways = [Gateway(NUDGES, f"http://127.0.0.1:{ours_port}/graphql", processes[-1].pid)]
        assert gateways[0].url is not None
        wait_for(gateways[0].url)

        node = shutil.which("node") or "node"
        if APOLLO in wanted:
            port = free_port()
            apollo_dir = ROOT / "bench" / "apollo"
            command = [node, str(apollo_dir / "gateway.mjs"), str(supergraph), str(port)]
            url = f"http://127.0.0.1:{port}/"
            gateways.append(
                start_node_gateway(
                    APOLLO, apollo_dir, "@apollo/gateway", command, url, workdir, processes
                )
            )
        if HIVE in wanted:
            # Hive Gateway's own command line, as it is run: one process (--fork 1), the
            # supergraph file watched (every 10 s by default); bench/hive/gateway.config.mjs
            # turns off its sharing of identical subgraph queries in flight unless asked.
            port = free_port()
            hive_dir = ROOT / "bench" / "hive"
            cli = hive_dir / "node_modules" / "@graphql-hive" / "gateway" / "dist" / "bin.js"
            config = hive_dir / "gateway.config.mjs"
            command = [node, str(cli), "supergraph", str(supergraph), "--config-path", str(config)]
            command += ["--host", "127.0.0.1", "--port", str(port), "--fork", "1"]
            url = f"http://127.0.0.1:{port}/graphql"
            gateways.append(
                start_node_gateway(
                    HIVE, hive_dir, "@graphql-hive/gateway", command, url, workdir, processes
                )
            )

        reference = httpx.post(gateways[0].url, json={"query": QUERY}).json()
        assert "errors" not in reference, reference
        for gateway in gateways[1:]:
            if gateway.url is not None:
                answer = httpx.post(gateway.url, json={"query": QUERY}).json()
                assert answer == reference, (
                    f"{gateway.name} disagrees with {NUDGES}:\n{reference}\n{answer}"
                )

        running = [g for g in gateways if g.url is not None]
        print(
            f"Federated query over 3 subgraphs (products, inventory, reviews); "
            f"{args.concurrency} concurrent clients, {args.rounds} rounds of {args.seconds:.0f} s "
            "each, in turns (a different gateway first each round), loopback, "
            f"{os.cpu_count()} cores shared by load generator, gateway and subgraphs; "
            "each gateway is one process (uvicorn on uvloop; Node); measured: "
            + ", ".join(g.name for g in running)
            + "."
        )
        rounds: dict[str, list[Figures]] = {g.name: [] for g in running}
        for number in range(args.rounds):
            # Rotate the order, so that no gateway always runs on a warmer machine.
            shift = number % len(running)
            for gateway in running[shift:] + running[:shift]:
                assert gateway.url is not None
                measured = {gateway.name: gateway.pid, **pids}
                figures = asyncio.run(
                    load(
                        gateway.name,
                        gateway.url,
                        args.seconds,
                        args.concurrency,
                        args.warmup,
                        measured,
                    )
                )
                rounds[gateway.name].append(figures)
                print(f"  round {number + 1}: {figures.line()}")
        merged = {name: Figures.merge(name, runs) for name, runs in rounds.items()}
        print(f"over {args.rounds} rounds (median throughput, latencies pooled):")
        for figures in merged.values():
            print(figures.line())
            print(figures.cpu_line())
        rss = {g.name: peak_rss_mib(g.pid, children=True) for g in running}
        rss.update({name: peak_rss_mib(pid, children=True) for name, pid in pids.items()})
        rss[LOAD_GENERATOR] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            "peak RSS MB: "
            + ", ".join(f"{n} {mb:.0f}" if mb is not None else f"{n} n/a" for n, mb in rss.items())
        )
        ours = merged[NUDGES]
        summary: dict[str, object] = {
            "nudges_gateway_req_s": round(ours.throughput, 1),
            "nudges_gateway_p99_ms": round(ours.percentile(0.99), 2),
            "nudges_gateway_cpu_ms_per_req": _rounded(ours.gateway_cpu_ms),
        }
        for gateway in gateways[1:]:
            key = gateway.name.replace("-", "_")
            ratio_key = f"ratio_vs_{key}"
            if gateway.url is None:
                print(f"{gateway.name:<16} not measured: {gateway.missing}")
                summary[ratio_key] = None
                continue
            theirs = merged[gateway.name]
            throughput = ours.throughput / theirs.throughput
            p99 = ours.percentile(0.99) / theirs.percentile(0.99)
            p50 = ours.percentile(0.5) / theirs.percentile(0.5)
            ours_cpu, theirs_cpu = ours.gateway_cpu_ms, theirs.gateway_cpu_ms
            cpu = (
                f", gateway CPU per request {ours_cpu / theirs_cpu:.2f}x"
                if ours_cpu and theirs_cpu
                else ""
            )
            print(
                f"ratio ({NUDGES} / {gateway.name}): throughput {throughput:.2f}x, "
                f"p99 latency {p99:.2f}x, p50 latency {p50:.2f}x{cpu}"
            )
            summary.update(
                {
                    f"{key}_req_s": round(theirs.throughput, 1),
                    f"{key}_p99_ms": round(theirs.percentile(0.99), 2),
                    f"{key}_cpu_ms_per_req": _rounded(theirs_cpu),
                    ratio_key: round(throughput, 3),
                }
            )
        summary["cpu_ms_per_req"] = {
            name: {p: _rounded(figures.cpu_ms(p)) for p in figures.cpu}
            | {"all": _rounded(figures.total_cpu_ms)}
            for name, figures in merged.items()
        }
        summary["peak_rss_mb"] = {n: None if mb is None else round(mb, 1) for n, mb in rss.items()}
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
