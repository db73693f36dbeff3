"""Session fixtures: real PostgreSQL, Redis and broker, and the real WarpCache and
LocalizationApi processes, started once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from nudges_devstack.infra import Postgres, Redis, TansuBroker, free_port
from nudges_devstack.selection import InfraPlan, default_probes, infra_mode, plan_infra


@pytest.fixture(scope="session")
def state_dir() -> Iterator[Path]:
    """A folder for the embedded servers of this session."""
    with tempfile.TemporaryDirectory(prefix="nudges-test-") as path:
        yield Path(path)


@pytest.fixture(scope="session")
def infra_plan() -> InfraPlan:
    """Where this session's PostgreSQL and Redis come from (``NUDGES_INFRA``,
    :mod:`nudges_devstack.selection`)."""
    plan = plan_infra(infra_mode(), default_probes(), components=("postgres", "redis"))
    print(f"\n{plan.describe()}")
    return plan


@pytest.fixture(scope="session")
def postgres(state_dir: Path, infra_plan: InfraPlan) -> Iterator[Postgres]:
    """PostgreSQL as ``NUDGES_INFRA`` selects it (``auto``: a container where Docker answers,
    else the environment's or 127.0.0.1:5432, else embedded)."""
    server = Postgres.ensure(state_dir / "postgres", infra_plan["postgres"])
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(state_dir: Path, infra_plan: InfraPlan) -> Iterator[Redis]:
    """Redis as ``NUDGES_INFRA`` selects it (``auto``: a container where Docker answers, else
    the environment's or 127.0.0.1:6379, else embedded)."""
    server = Redis.ensure(state_dir / "redis", infra_plan["redis"])
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kafka_broker(state_dir: Path) -> Iterator[TansuBroker]:
    """A Tansu broker of this session's own, on a free port, whatever ``NUDGES_INFRA`` says:
    tests stop, kill and restart it (the reliability suites), which they do to a process of
    their own, not to a shared container."""
    broker = TansuBroker(free_port(), log_path=state_dir / "tansu.log")
    broker.start()
    yield broker
    broker.stop()


@dataclass
class ConsoleScript:
    """A console script of this environment (found beside ``sys.executable``) run as a child
    process, ready once ``ready_path`` on its HTTP port answers 200."""

    command: str
    env: dict[str, str]
    http_port: int
    log_path: Path
    ready_path: str = "/readyz"
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 60.0) -> None:
        """Start the process and wait until it is ready (or fail with its log)."""
        executable = Path(sys.executable).parent / self.command
        out = open(self.log_path, "ab")  # noqa: SIM115  (the child writes to it until stopped)
        self._process = subprocess.Popen(  # noqa: S603
            [str(executable if executable.exists() else self.command)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ENVIRONMENT": "test", **self.env},
        )
        out.close()
        url = f"http://127.0.0.1:{self.http_port}{self.ready_path}"
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise RuntimeError(f"{self.command} exited early:\n{self.log_tail()}")
                try:
                    if client.get(url).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(
            f"{self.command} not ready at {url} after {timeout:.0f}s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 40) -> str:
        """The end of the process's output."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 10 seconds)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        self._process = None


def _grpc_server(command: str, state_dir: Path) -> Iterator[str]:
    grpc_port, http_port = free_port(), free_port()
    server = ConsoleScript(
        command,
        {"GRPC_PORT": str(grpc_port), "HTTP_PORT": str(http_port), "LOG_LEVEL": "WARNING"},
        http_port,
        state_dir / f"{command}.log",
    )
    server.start()
    try:
        yield f"127.0.0.1:{grpc_port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def warpcache_server(state_dir: Path) -> Iterator[str]:
    """The real ``nudges-warpcache`` on free ports; yields its gRPC target ``127.0.0.1:port``.

    It accepts its development callers (auth, gateway, webhooks, each with its prefixes):
    a client calls as one of them with ``token=development_warpcache_token(name)``
    (``nudges_kit.settings``), which is what a service's settings give it in tests."""
    yield from _grpc_server("nudges-warpcache", state_dir)


@pytest.fixture(scope="session")
def localization_server(state_dir: Path) -> Iterator[str]:
    """The real ``nudges-localization`` on free ports; yields its gRPC target."""
    yield from _grpc_server("nudges-localization", state_dir)
