"""What a process costs, read from Linux's ``/proc``: CPU time and peak memory, of one process,
of a process with everything it started, and of the PostgreSQL backends that serve some
databases. The benchmarks divide these by their units of work.

A PostgreSQL backend is a process of the server, not of the platform, and it ends with its
connection: :class:`BackendSampler` polls ``pg_stat_activity`` while the work runs and keeps
the last CPU figure of every backend it saw, so a connection closed before the end still
counts up to its last sample (the pools keep theirs open, so little is lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import asyncpg

_TICKS = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """``pid`` and every process it started, so a program forking workers is measured whole."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
    return found


def cpu_seconds(pid: int | None, *, children: bool = False) -> float | None:
    """User + system CPU time of ``pid`` so far (with ``children``, of everything it started
    too), or None when it cannot be read (no such process)."""
    if pid is None:
        return None
    total, read = 0, False
    for each in descendants(pid) if children else [pid]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
        read = True
    return total / _TICKS if read else None


def peak_rss_mib(pid: int | None, *, children: bool = False) -> float | None:
    """The peak resident memory of ``pid`` so far in MiB (``VmHWM``; with ``children``,
    summed over everything it started), or None when it cannot be read."""
    if pid is None:
        return None
    total, read = 0, False
    for each in descendants(pid) if children else [pid]:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
                read = True
    return round(total / 1024, 1) if read else None


#: The ``application_name`` of a benchmark's own connections, which :class:`BackendSampler`
#: leaves out (a benchmark polling for its end is not the work it measures).
BENCH_APPLICATION = "nudges-bench"


class BackendSampler:
    """The CPU and peak memory of the PostgreSQL backends serving ``databases``, on a server
    of this machine, sampled every ``interval`` seconds between :meth:`start` and
    :meth:`stop`. Only CPU spent after :meth:`start` counts; connections named
    :data:`BENCH_APPLICATION` are left out."""

    def __init__(self, dsn: str, databases: Iterable[str], interval: float = 0.5) -> None:
        self._dsn = dsn
        self._databases = list(databases)
        self._interval = interval
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._rss: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._conn = await asyncpg.connect(self._dsn)
        await self.sample(baseline=True)
        self._task = asyncio.create_task(self._run())

    async def sample(self, *, baseline: bool = False) -> None:
        """Read every backend of the databases once."""
        assert self._conn is not None
        pids = await self._conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])"
            " AND pid <> pg_backend_pid() AND application_name IS DISTINCT FROM $2",
            self._databases,
            BENCH_APPLICATION,
        )
        for row in pids:
            pid = int(row["pid"])
            seconds = cpu_seconds(pid)
            if seconds is None:
                continue
            # A backend first seen after the start began its work after it: from 0.
            self._first.setdefault(pid, seconds if baseline else 0.0)
            self._last[pid] = seconds
            if (rss := peak_rss_mib(pid)) is not None:
                self._rss[pid] = rss

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            with contextlib.suppress(asyncpg.PostgresError, OSError):
                await self.sample()

    async def stop(self) -> None:
        """Take a last sample and stop sampling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            await self.sample()
            await self._conn.close()
            self._conn = None

    @property
    def cpu_seconds(self) -> float:
        """CPU the backends spent since :meth:`start`."""
        return sum(self._last[pid] - first for pid, first in self._first.items())

    @property
    def backends(self) -> int:
        """How many backends were seen."""
        return len(self._first)

    @property
    def peak_rss_mib(self) -> float:
        """The largest peak resident memory of one backend (each shares the server's buffers,
        so a sum would count them many times)."""
        return max(self._rss.values(), default=0.0)


@contextlib.contextmanager
def profiled(pids: dict[str, int], directory: Path | None) -> Iterator[None]:
    """With ``directory``: py-spy samples each process in ``pids`` while the block runs and
    writes its collapsed stacks to ``<directory>/<name>.txt`` (flamegraph input)."""
    if directory is None:
        yield
        return
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("--profile needs py-spy on the PATH (pip install py-spy)")
    directory.mkdir(parents=True, exist_ok=True)
    samplers = [
        subprocess.Popen(  # noqa: S603  (py-spy from the PATH, our own pids)
            [
                py_spy,
                "record",
                "--pid",
                str(pid),
                "--rate",
                "200",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(directory / f"{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]
    try:
        yield
    finally:
        for sampler in samplers:
            sampler.send_signal(signal.SIGINT)
        for sampler in samplers:
            sampler.wait(timeout=30)
        print(f"profiles (py-spy, collapsed stacks): {directory}/*.txt")
