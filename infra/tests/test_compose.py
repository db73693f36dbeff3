"""compose.yaml brings the platform up in order: every dependency it waits for can report
what it waits for (healthy, or completed), nothing waits in a circle, and the pieces it
mounts (init script, realm, collector configuration) exist and agree with the services."""

from __future__ import annotations

import json
import re
from graphlib import TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from conftest import Infra, TerraformDir

CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
#: The one long-running service without a healthcheck, and why.
NO_HEALTHCHECK = {
    "otel-collector": "its image has no shell or HTTP client; services need it only started",
}


def dockerfile_of(infra: Infra, service: dict[str, Any]) -> Path | None:
    build = service.get("build")
    if not build:
        return None
    return infra.repo / build.get("context", ".") / build.get("dockerfile", "Dockerfile")


def has_healthcheck(infra: Infra, service: dict[str, Any]) -> bool:
    if "healthcheck" in service:
        return not service["healthcheck"].get("disable", False)
    dockerfile = dockerfile_of(infra, service)
    if dockerfile is None or not dockerfile.exists():
        return False
    checks = re.findall(r"(?m)^HEALTHCHECK\s+(\S+)", dockerfile.read_text())
    return bool(checks) and checks[-1] != "NONE"


def is_job(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"


def test_dependencies_exist_and_can_report_their_condition(
    infra: Infra, compose: dict[str, Any]
) -> None:
    services = compose["services"]
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = rule["condition"]
            assert condition in CONDITIONS, f"{name} -> {target}: {condition}"
            if condition == "service_healthy":
                assert has_healthcheck(infra, services[target]), f"{target} has no healthcheck"
            if condition == "service_completed_successfully":
                assert is_job(services[target]), f"{target} is not a one-shot job"


def test_every_long_running_service_has_a_healthcheck(
    infra: Infra, compose: dict[str, Any]
) -> None:
    for name, service in compose["services"].items():
        if is_job(service) or name in NO_HEALTHCHECK:
            continue
        assert has_healthcheck(infra, service), f"{name} has no healthcheck"


def test_start_order_has_no_cycle(compose: dict[str, Any]) -> None:
    graph = {name: set(s.get("depends_on", {})) for name, s in compose["services"].items()}
    order = list(TopologicalSorter(graph).static_order())
    assert order.index("migrate") < order.index("user")
    assert order.index("topics") < order.index("consumers")
    assert order.index("gateway") > max(order.index(s) for s in ("user", "product", "payment"))


def test_default_services_never_require_a_profile_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        if service.get("profiles"):
            continue
        for target, rule in service.get("depends_on", {}).items():
            if services[target].get("profiles"):
                assert rule.get("required") is False, f"{name} requires {target} of a profile"


def test_profiles(infra: Infra, compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["stripe-emulator"]["profiles"] == ["dev"]
    assert services["twilio-emulator"]["profiles"] == ["dev"]
    assert services["admin-ui"]["profiles"] == ["ui"]
    assert services["signup-ui"]["profiles"] == ["ui"]
    # The UIs build from the web/ workspace: the shared package and the one lock file.
    for app in ("admin", "signup"):
        assert services[f"{app}-ui"]["build"] == {
            "context": "web",
            "dockerfile": f"{app}/Dockerfile",
        }
        assert (infra.repo / "web" / app / "Dockerfile").exists()


def test_ui_images_install_the_whole_web_workspace(infra: Infra) -> None:
    """`npm ci` checks the one lock file against every workspace's package.json, so each UI's
    Dockerfile copies all of them before it installs, and the shared package before it builds."""
    workspaces = json.loads((infra.repo / "web" / "package.json").read_text())["workspaces"]
    assert "shared" in workspaces
    for app in ("admin", "signup"):
        dockerfile = (infra.repo / "web" / app / "Dockerfile").read_text()
        install = dockerfile.index("RUN npm ci")
        for workspace in workspaces:
            copy = f"COPY {workspace}/package.json {workspace}/"
            assert copy in dockerfile[:install], f"{app}/Dockerfile lacks {copy!r} before npm ci"
        assert "COPY package.json package-lock.json" in dockerfile[:install]
        assert "COPY shared/ shared/" in dockerfile[install:]


def test_every_dockerfile_outside_the_ui_profile_exists(
    infra: Infra, compose: dict[str, Any]
) -> None:
    for name, service in compose["services"].items():
        dockerfile = dockerfile_of(infra, service)
        if dockerfile is not None and "ui" not in service.get("profiles", []):
            assert dockerfile.exists(), f"{name}: {dockerfile}"


def test_jobs_run_after_what_they_need(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["topics"]["command"] == ["topics", "create"]
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"


def _needs(compose: dict[str, Any], name: str, target: str) -> bool:
    """Whether ``name`` starts only after ``target`` (directly or through its dependencies)."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        for dep in compose["services"][current].get("depends_on", {}):
            if dep == target:
                return True
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return False


def test_services_start_after_migrations_and_topics(
    compose: dict[str, Any], environments: dict[str, TerraformDir]
) -> None:
    """What uses a database or Kafka (as Terraform grants it) waits for migrate or topics."""
    declared = environments["production"].locals["services"]
    for name, service in declared.items():
        if service.get("postgres"):
            assert _needs(compose, name, "migrate"), f"{name} may start before migrations"
        if "kafka" in service:
            assert _needs(compose, name, "topics"), f"{name} may start before its topics"
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        if "POSTGRES_URL" in env and name != "migrate":
            assert _needs(compose, name, "migrate"), f"{name} may start before migrations"
        if "KAFKA_ENABLE_IDEMPOTENCE" in env:
            assert env["KAFKA_ENABLE_IDEMPOTENCE"] == "true", f"{name}: a real broker"


def test_kafka_is_kraft_without_topic_auto_creation(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image", "")
        if "build" not in service:
            assert re.search(r":v?[0-9][\w.-]*$", image), (
                f"{name}: {image} is not pinned to a version"
            )


def test_published_ports_stay_on_the_loopback(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_postgres_init_creates_every_service_database(
    infra: Infra, compose: dict[str, Any]
) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:16")
    mount = next(v for v in postgres["volumes"] if v.endswith(":/docker-entrypoint-initdb.d:ro"))
    scripts = infra.repo / mount.split(":")[0]
    created = set(
        re.findall(r"CREATE DATABASE (\w+)", "".join(p.read_text() for p in scripts.iterdir()))
    )
    declared = {
        match
        for settings in infra.repo.glob("services/*/src/*/settings.py")
        for match in re.findall(r'database_name: str = "(\w+)"', settings.read_text())
    }
    assert declared, "expected services with databases"
    assert declared | {"keycloak"} <= created


def test_keycloak_imports_the_realm_of_the_repository(
    infra: Infra, compose: dict[str, Any]
) -> None:
    keycloak = compose["services"]["keycloak"]
    assert keycloak["image"].startswith("quay.io/keycloak/keycloak:")
    assert keycloak["command"] == ["start-dev", "--import-realm"]
    realm = next(v for v in keycloak["volumes"] if "/opt/keycloak/data/import/" in v)
    assert (infra.repo / realm.split(":")[0]).exists()


def test_traces_go_through_the_collector_to_jaeger(infra: Infra, compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["jaeger"]["image"].startswith("jaegertracing/all-in-one:")
    assert "127.0.0.1:16686:16686" in services["jaeger"]["ports"]
    collector = services["otel-collector"]
    assert collector["image"].startswith("otel/opentelemetry-collector-contrib:")
    config_path = next(v for v in collector["volumes"] if "config.yaml" in v).split(":")[0]
    config = yaml.safe_load((infra.repo / config_path).read_text())
    traces = config["service"]["pipelines"]["traces"]
    assert "otlp" in traces["receivers"]
    exporter = traces["exporters"][0]
    assert config["exporters"][exporter]["endpoint"] == "jaeger:4317"
    endpoints = {
        s["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
        for s in services.values()
        if "OTEL_EXPORTER_OTLP_ENDPOINT" in s.get("environment", {})
    }
    assert endpoints == {"http://otel-collector:4318"}


@pytest.mark.parametrize("emulator", ["stripe-emulator", "twilio-emulator"])
def test_emulators_build_from_their_dockerfile(compose: dict[str, Any], emulator: str) -> None:
    service = compose["services"][emulator]
    assert service["build"]["dockerfile"] == "infra/compose/emulators.Dockerfile"
    port = {"stripe-emulator": "12111", "twilio-emulator": "12112"}[emulator]
    assert service["environment"]["HTTP_PORT"] == port
    assert service["command"] == [f"nudges-{emulator}"]
