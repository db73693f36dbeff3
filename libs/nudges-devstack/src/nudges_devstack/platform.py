"""The whole platform as processes on free ports, over databases of its own: what the
end-to-end and fault tests run against (``make dev`` runs the same commands on fixed
ports)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from nudges_devstack.infra import ServiceProcess, free_port, port_open
from nudges_devstack.testing import drop_database
from nudges_kit.migrations import discover, upgrade

#: Start order: what a service calls at start-up comes before it.
ORDER = (
    "warpcache",
    "localization",
    "registry",
    "stripe-emulator",
    "twilio-emulator",
    "user",
    "auth",
    "product",
    "payment",
    "webhooks",
    "consumers",
    "gateway",
)
COMMANDS = {
    "warpcache": "nudges-warpcache",
    "localization": "nudges-localization",
    "auth": "nudges-auth",
    "user": "nudges-user",
    "product": "nudges-product",
    "payment": "nudges-payment",
    "webhooks": "nudges-webhooks",
    "consumers": "nudges-consumers",
    "registry": "nudges-registry",
    "gateway": "nudges-gateway",
    "stripe-emulator": "nudges-stripe-emulator",
    "twilio-emulator": "nudges-twilio-emulator",
}
GRPC = {"warpcache", "localization"}
#: The stand-ins of Stripe and Twilio (not Nudges services: no production mode of their own).
EMULATORS = frozenset({"stripe-emulator", "twilio-emulator"})
STRIPE_WEBHOOK_SECRET = "whsec_platform"
TWILIO_AUTH_TOKEN = "platform-twilio-token"
CONSUMERS_SECRET = "platform-consumers-secret"
WEBHOOKS_SECRET = "platform-webhooks-secret"
#: The machine accounts of AuthApi's client-credentials grant, by name: the workers, and the
#: subgraphs (whose tokens register them with the registry).
MACHINE_SECRETS = {
    "consumers": CONSUMERS_SECRET,
    "webhooks": WEBHOOKS_SECRET,
    **{name: f"platform-{name}-secret" for name in ("user", "product", "payment")},
}

#: The callers of WarpCache, each with a token of its own (as production configures them,
#: rather than the development defaults).
WARPCACHE_CALLERS = ("auth", "gateway", "webhooks")


def warpcache_token(caller: str) -> str:
    """The WarpCache token of ``caller`` on the platform."""
    return f"platform-warpcache-{caller}"


@dataclass
class Platform:
    """Every service of Nudges, started in order; ``url(name)`` is where each listens."""

    postgres_url: str
    kafka_bootstrap_servers: str
    state_dir: Path
    services: tuple[str, ...] = ORDER
    ports: dict[str, int] = field(default_factory=dict)
    grpc_ports: dict[str, int] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    #: Extra environment per service (``"*"``: every service), applied over :meth:`env`.
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Leave the databases in place after :meth:`stop` (to look at them after a run).
    keep_databases: bool = False
    #: Second processes of a service, by name: the service each runs (its command and
    #: settings, on ports of its own). Listed in ``services`` to be started.
    replicas: dict[str, str] = field(default_factory=dict)

    def service_of(self, name: str) -> str:
        """The service process ``name`` runs (itself, unless it is a replica)."""
        return self.replicas.get(name, name)

    def url(self, name: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def grpc(self, name: str) -> str:
        return f"127.0.0.1:{self.grpc_ports[name]}"

    def _migrate(self) -> None:
        suffix = uuid.uuid4().hex[:8]
        for migration_set in discover():
            name = f"e2e_{migration_set.database}_{suffix}"
            upgrade(migration_set, self.postgres_url, database=name)
            self.databases[migration_set.service] = name

    def env(self, name: str) -> dict[str, str]:
        """The environment of service ``name``: its ports and where everything else is."""
        auth = self.url("auth", "/auth")
        env = {
            "ENVIRONMENT": "test",
            "LOG_JSON": "true",
            "POSTGRES_URL": self.postgres_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "HTTP_PORT": str(self.ports[name]),
            "JWT_ISSUER": auth,
            "JWKS_URL": f"{auth}/.well-known/jwks.json",
            "WARPCACHE_URL": self.grpc("warpcache"),
            "WARPCACHE_TOKEN": warpcache_token(self.service_of(name)),
            "WARPCACHE_CALLERS": json.dumps({c: warpcache_token(c) for c in WARPCACHE_CALLERS}),
            "LOCALIZATION_URL": self.grpc("localization"),
            "USER_URL": self.url("user", "/graphql"),
            "PRODUCT_URL": self.url("product", "/graphql"),
            "PAYMENT_URL": self.url("payment", "/graphql"),
            "AUTH_TOKEN_URL": f"{auth}/token",
            "STRIPE_API_BASE": self.url("stripe-emulator"),
            "STRIPE_WEBHOOK_URL": self.url("webhooks", "/webhooks/stripe"),
            "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            "TWILIO_API_URL": self.url("twilio-emulator"),
            "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            "TWILIO_SMS_WEBHOOK_URL": self.url("webhooks", "/webhooks/twilio/sms"),
            "TWILIO_STATUS_CALLBACK_URL": self.url("webhooks", "/webhooks/twilio/status"),
            "OTP_ECHO": "true",
            "REGISTRY_URL": self.url("registry"),
            "SUBGRAPH_URL": self.url(name, "/graphql"),
            "SUPERGRAPH_POLL_SECONDS": "1",
            "JWT_KEYS_FILE": str(self.state_dir / "jwt-keys.json"),
            "MACHINE_SECRETS": json.dumps(MACHINE_SECRETS),
            # The platform runs on the wall clock at whatever hour it is started: quiet hours
            # would hold the copies of a night run (the fan-out tests set a clock of their own).
            "QUIET_HOURS": "false",
        }
        if name in MACHINE_SECRETS:
            env["SERVICE_CLIENT_SECRET"] = MACHINE_SECRETS[name]
        if self.service_of(name) in GRPC:
            env["GRPC_PORT"] = str(self.grpc_ports[name])
        if self.service_of(name) in self.databases:
            env["DATABASE_NAME"] = self.databases[self.service_of(name)]
        return {**env, **self.overrides.get("*", {}), **self.overrides.get(name, {})}

    def start(self) -> None:
        """Migrate fresh databases and start every service, each ready before the next."""
        self._migrate()
        # Every service has a port, started or not: each one's environment names them all
        # (ports given beforehand stay: a stand-in may answer there).
        for name in dict.fromkeys((*ORDER, *self.services)):
            self.ports.setdefault(name, free_port())
            if self.service_of(name) in GRPC:
                self.grpc_ports.setdefault(name, free_port())
        for name in self.services:
            self.start_service(name)

    def start_service(self, name: str, timeout: float = 60) -> None:
        """Start service ``name`` on its port and wait until it is ready."""
        service = self.service_of(name)
        process = ServiceProcess(
            COMMANDS[service],
            self.env(name),
            self.url(name, "/readyz" if service != "consumers" else "/healthz"),
            log_path=self.log_path(name),
        )
        process.start(timeout=timeout)
        self.processes[name] = process

    def log_path(self, name: str) -> Path:
        """Where the output of service ``name`` goes (appended across restarts)."""
        return self.state_dir / f"{name}.log"

    def pid(self, name: str) -> int:
        """The process id of running service ``name``."""
        return _popen(self.processes[name]).pid

    def rss_kib(self, name: str) -> int:
        """The resident memory of service ``name`` in KiB (``VmRSS`` of /proc/<pid>/status)."""
        status = Path(f"/proc/{self.pid(name)}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for {name}")

    def kill_service(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send ``sig`` to service ``name`` (by default: killed, no chance to clean up) and
        wait until it has exited; :meth:`restart_service` or :meth:`start_service` brings it
        back on the same ports."""
        process = self.processes.pop(name)
        popen = _popen(process)
        if popen.poll() is None:
            os.kill(popen.pid, sig)
            try:
                popen.wait(15)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait(10)
        process.stop()
        _wait_port_free(self.ports[name])
        if name in self.grpc_ports:
            _wait_port_free(self.grpc_ports[name])

    def restart_service(
        self, name: str, sig: signal.Signals = signal.SIGTERM, timeout: float = 60
    ) -> None:
        """Stop service ``name`` with ``sig`` and start it again on the same ports."""
        if name in self.processes:
            self.kill_service(name, sig)
        self.start_service(name, timeout=timeout)

    def secrets(self) -> dict[str, str]:
        """The secrets this platform's processes share, by name (for tests that check none
        of them leaks into a log or an event)."""
        return {
            "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            **{f"{name.upper()}_SECRET": secret for name, secret in MACHINE_SECRETS.items()},
        }

    def stop_service(self, name: str) -> None:
        self.processes.pop(name).stop()

    def stop(self) -> None:
        """Stop every service: all are asked to stop at once (last started first), then each
        is waited for (and killed if it does not stop in time)."""
        names = list(reversed(list(self.processes)))
        for name in names:
            popen = self.processes[name]._process  # see _popen
            if popen is not None and popen.poll() is None:
                popen.terminate()
        for name in names:
            self.stop_service(name)
        if not self.keep_databases:
            self.drop_databases()

    def drop_databases(self) -> None:
        """Drop the databases :meth:`start` created."""
        names = list(self.databases.values())

        async def drop_all() -> None:
            for name in names:
                await drop_database(self.postgres_url, name)

        # A thread of its own: the caller may be inside a running event loop.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, drop_all()).result()
        self.databases.clear()


def _popen(process: ServiceProcess) -> subprocess.Popen[bytes]:
    # ServiceProcess keeps its child private; faults and memory figures need its pid.
    popen = process._process
    if popen is None:
        raise RuntimeError(f"{process.command} is not running")
    return popen


def _wait_port_free(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while port_open("127.0.0.1", port) and time.monotonic() < deadline:
        time.sleep(0.05)
