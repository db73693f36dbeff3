"""PostgreSQL, Redis, Kafka (KRaft) and Keycloak in containers, started with the
``testcontainers`` package (``NUDGES_INFRA=containers``, or ``auto`` where a Docker engine
answers). The images and settings are compose.yaml's (``infra/tests`` keeps them equal); each
container publishes its port on a free port of 127.0.0.1, and is removed when stopped (or by
testcontainers' reaper when the process dies first).

Nothing here runs without a Docker engine; :func:`nudges_devstack.selection.plan_infra`
refuses ``containers`` before any of it is called.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nudges_devstack.infra import free_port, keycloak_answers, port_open, postgres_answers

#: The images of compose.yaml.
POSTGRES_IMAGE = "postgres:16.10-alpine"
REDIS_IMAGE = "redis:7.4-alpine"
KAFKA_IMAGE = "apache/kafka:4.0.0"
KEYCLOAK_IMAGE = "quay.io/keycloak/keycloak:26.2.5"
#: Keycloak's realm, as compose imports it (clients, roles and the development admin).
REALM_FILE = Path(__file__).resolve().parents[4] / "infra" / "keycloak" / "nudges-realm.json"
#: The secret of the realm's ``nudges-auth`` client (development only, as in compose.yaml).
KEYCLOAK_CLIENT_SECRET = "dev-only-nudges-auth-secret"

POSTGRES_PASSWORD = "nudges"
HOST = "127.0.0.1"


@dataclass
class RunningContainer:
    """A container this process started: where it answers, and how to stop it."""

    url: str
    origin: str
    container: Any

    def stop(self) -> None:
        """Stop and remove the container."""
        self.container.stop()


def _wait(ready: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.5)
    raise TimeoutError(f"{what} did not become ready within {timeout:.0f}s")


def _started(
    image: str,
    ports: dict[int, int],
    env: dict[str, str],
    command: str | None = None,
    volumes: tuple[tuple[str, str], ...] = (),
) -> Any:
    from testcontainers.core.container import DockerContainer

    container = DockerContainer(image)
    for inside, outside in ports.items():
        # Published on the loopback only (the Docker SDK's (address, port) form), not on every
        # interface of the machine.
        container.ports[f"{inside}/tcp"] = (HOST, outside)  # type: ignore[assignment]
    for name, value in env.items():
        container.with_env(name, value)
    if command:
        container.with_command(command)
    for host_path, container_path in volumes:
        container.with_volume_mapping(host_path, container_path, mode="ro")
    return container.start()


def _running(container: Any, url: str, what: str) -> RunningContainer:
    return RunningContainer(url, f"{what} container ({container.image}) on {url}", container)


def postgres_container(timeout: float = 90.0) -> RunningContainer:
    """PostgreSQL 16 (user ``nudges``), ready for connections over TCP."""
    port = free_port()
    container = _started(
        POSTGRES_IMAGE,
        {5432: port},
        {
            "POSTGRES_USER": "nudges",
            "POSTGRES_PASSWORD": POSTGRES_PASSWORD,
            "POSTGRES_DB": "postgres",
        },
    )
    url = f"postgresql://nudges:{POSTGRES_PASSWORD}@{HOST}:{port}/postgres"
    try:
        # The image's first-start server listens on no TCP port: TCP answers once it is over.
        _wait(lambda: postgres_answers(url), "PostgreSQL", timeout)
    except BaseException:
        container.stop()
        raise
    return _running(container, url, "PostgreSQL")


def _redis_pings(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_container(timeout: float = 60.0) -> RunningContainer:
    """Redis 7, bounded like compose's (volatile-lru), answering PING."""
    port = free_port()
    container = _started(
        REDIS_IMAGE,
        {6379: port},
        {},
        command="redis-server --save '' --appendonly no --maxmemory 256mb "
        "--maxmemory-policy volatile-lru",
    )
    try:
        _wait(lambda: _redis_pings(port), "Redis", timeout)
    except BaseException:
        container.stop()
        raise
    return _running(container, f"redis://{HOST}:{port}/0", "Redis")


def kafka_environment(host_port: int) -> dict[str, str]:
    """compose.yaml's KRaft single-node settings, the host listener advertised on
    ``host_port`` of 127.0.0.1 (a Docker engine on another machine is not supported)."""
    return {
        "CLUSTER_ID": "bnVkZ2VzLWNvbXBvc2UtMQ",
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        "KAFKA_LISTENERS": "INTERNAL://:9092,CONTROLLER://:9093,HOST://:9094",
        "KAFKA_ADVERTISED_LISTENERS": f"INTERNAL://localhost:9092,HOST://{HOST}:{host_port}",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": (
            "INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT,HOST:PLAINTEXT"
        ),
        "KAFKA_INTER_BROKER_LISTENER_NAME": "INTERNAL",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_NUM_PARTITIONS": "3",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
    }


def kafka_container(timeout: float = 120.0) -> RunningContainer:
    """Apache Kafka 4 in KRaft mode (one broker and controller), with idempotent producers;
    the ``url`` is its bootstrap servers."""
    from testcontainers.core.waiting_utils import wait_for_logs

    port = free_port()
    container = _started(KAFKA_IMAGE, {9094: port}, kafka_environment(port))
    try:
        wait_for_logs(container, "Kafka Server started", timeout=timeout)
        _wait(lambda: port_open(HOST, port), "Kafka", 10)
    except BaseException:
        container.stop()
        raise
    return _running(container, f"{HOST}:{port}", "Kafka (KRaft)")


def keycloak_container(timeout: float = 180.0) -> RunningContainer:
    """Keycloak in development mode with the ``nudges`` realm imported (as compose runs it,
    with its own embedded database); the ``url`` is its base URL."""
    port = free_port()
    container = _started(
        KEYCLOAK_IMAGE,
        {8080: port},
        {
            "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
            "KC_BOOTSTRAP_ADMIN_PASSWORD": "admin",
            "KC_HEALTH_ENABLED": "true",
        },
        command="start-dev --import-realm",
        volumes=((str(REALM_FILE), "/opt/keycloak/data/import/nudges-realm.json"),),
    )
    url = f"http://{HOST}:{port}"
    try:
        _wait(lambda: keycloak_answers(url), "Keycloak", timeout)
    except BaseException:
        container.stop()
        raise
    return _running(container, url, "Keycloak")


def keycloak_settings(url: str) -> dict[str, str]:
    """AuthApi's settings for the Keycloak at ``url`` with compose's realm and client."""
    return {
        "KEYCLOAK_URL": url,
        "KEYCLOAK_REALM": "nudges",
        "KEYCLOAK_CLIENT_ID": "nudges-auth",
        "KEYCLOAK_CLIENT_SECRET": KEYCLOAK_CLIENT_SECRET,
    }
