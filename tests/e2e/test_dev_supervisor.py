"""`nudges-dev up` as a person runs it: a readiness table once every service is healthy, a
killed service started again while the others keep running, and Ctrl-C stopping everything."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from nudges_devstack.infra import Postgres, free_port, free_port_offset
from nudges_devstack.services import SERVICES

NAMES = ("localization", "warpcache")
STARTED = re.compile(r"(?P<name>[\w-]+) +\| started with pid (?P<pid>\d+)")


@dataclass
class DevRun:
    """A running ``nudges-dev up`` and every line it printed so far."""

    process: subprocess.Popen[str]
    offset: int
    lines: list[str] = field(default_factory=list)
    _new: queue.Queue[str] = field(default_factory=queue.Queue)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            self._new.put(line)

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        """The first line so far or to come matching ``pattern``."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for line in self.lines[seen:]:
                if match := re.search(pattern, line):
                    return match
            seen = len(self.lines)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.process.poll() is not None and self._new.empty()):
                raise AssertionError(f"no line matching {pattern!r}:\n" + self.text()[-4000:])
            with contextlib.suppress(queue.Empty):
                self._new.get(timeout=min(remaining, 1.0))

    def text(self) -> str:
        return "\n".join(self.lines)

    def pids(self, name: str) -> list[int]:
        return [
            int(m["pid"])
            for line in self.lines
            if (m := STARTED.search(line)) and m["name"] == name
        ]

    def health_url(self, name: str) -> str:
        service = next(s for s in SERVICES if s.name == name).shifted(self.offset)
        return service.health_url


@pytest.fixture
def dev_run(tmp_path: Path, postgres: Postgres) -> Iterator[DevRun]:
    offset = free_port_offset(
        p for s in SERVICES if s.name in NAMES for p in (s.port, s.grpc_port) if p is not None
    )
    env = {
        **os.environ,
        "POSTGRES_URL": postgres.url,
        "NUDGES_STATE_DIR": str(tmp_path),
        "NUDGES_PORT_OFFSET": str(offset),
    }
    env.pop("LOG_JSON", None)
    argv = [str(Path(sys.executable).parent / "nudges-dev"), "up", "--timeout", "120"]
    argv += ["--kafka-port", str(free_port())]
    for name in NAMES:
        argv += ["--only", name]
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    run = DevRun(process, offset)
    threading.Thread(target=run.read, daemon=True).start()
    try:
        yield run
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.slow
def test_a_killed_service_is_restarted_and_the_others_keep_running(dev_run: DevRun) -> None:
    dev_run.wait_for(r"^all 2 services healthy$", timeout=180)
    table = dev_run.text()
    for name in NAMES:
        url = dev_run.health_url(name).removesuffix("/readyz")
        assert re.search(rf"^{name} +{re.escape(url)} +healthy$", table, re.MULTILINE), table
    [localization] = dev_run.pids("localization")
    [warpcache] = dev_run.pids("warpcache")

    os.kill(localization, signal.SIGKILL)

    dev_run.wait_for(r"localization was killed by SIGKILL, restarting in 0\.5 s \(attempt 1\)")
    dev_run.wait_for(rf"localization +\| started with pid (?!{localization}\b)\d+")
    deadline = time.monotonic() + 90
    with httpx.Client(timeout=2) as client:
        while True:
            try:
                if client.get(dev_run.health_url("localization")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, dev_run.text()[-4000:]
            time.sleep(0.3)
        # The other service never stopped: the same process, answering.
        assert dev_run.pids("warpcache") == [warpcache]
        os.kill(warpcache, 0)
        assert client.get(dev_run.health_url("warpcache")).status_code == 200
    assert dev_run.process.poll() is None

    dev_run.process.send_signal(signal.SIGINT)
    assert dev_run.process.wait(60) == 0
    dev_run.wait_for(r"warpcache +\| warpcache stopped", timeout=5)
    dev_run.wait_for(r"localization +\| localization stopped", timeout=5)


@pytest.mark.slow
def test_check_names_the_service_that_is_not_healthy(tmp_path: Path, postgres: Postgres) -> None:
    offset = free_port_offset(
        p for s in SERVICES if s.name in NAMES for p in (s.port, s.grpc_port) if p is not None
    )
    localization = next(s for s in SERVICES if s.name == "localization").shifted(offset)
    env = {
        **os.environ,
        "POSTGRES_URL": postgres.url,
        "NUDGES_STATE_DIR": str(tmp_path),
        "NUDGES_PORT_OFFSET": str(offset),
    }
    argv = [str(Path(sys.executable).parent / "nudges-dev"), "up", "--check", "--timeout", "30"]
    argv += ["--kafka-port", str(free_port()), "--only", "localization", "--only", "warpcache"]
    # Something else holds localization's port and never answers: it cannot become healthy.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", localization.port))
        squatter.listen()
        result = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=300, check=False
        )
    out = result.stdout
    assert result.returncode == 1, out[-4000:] + result.stderr[-2000:]
    assert re.search(r"^service +URL +state$", out, re.MULTILINE), out[-4000:]
    assert re.search(rf"^localization +{re.escape(localization.url)} +not answering$", out, re.M)
    assert re.search(r"^warpcache +http://127\.0\.0\.1:\d+ +healthy$", out, re.MULTILINE)
    assert "not healthy after 30s: localization" in out
    assert "restarting in" in out  # it kept trying
