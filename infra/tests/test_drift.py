"""compose.yaml and the Terraform of both environments describe the same platform: every
platform service of compose has, in staging and in production, its ECS service (same name,
same ports), its image in its own ECR repository, and the same secrets; the one-off jobs and
the UIs match too. So neither side can gain or lose a service or a setting alone."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Infra, TerraformDir

#: Settings whose values are secrets: Terraform must read them from Secrets Manager.
SECRET_NAME = re.compile(
    r"(_KEY|_KEYS|_SECRET|_SECRETS|_TOKEN|_PASSWORD)$|^(POSTGRES|REDIS)_URL$|^WARPCACHE_CALLERS$"
)

#: Settings compose sets that production must not: development switches.
DEVELOPMENT_ONLY = {
    "OTP_ECHO": "returns the one-time code in the response; AuthApi refuses it in production",
}

#: Secrets production sets that compose does not, by service.
PRODUCTION_ONLY_SECRETS = {
    "auth": {
        "JWT_SIGNING_KEYS": "development generates a signing key (JWT_KEYS_FILE)",
        "EDGE_ORIGIN_SECRET": "development has no CloudFront in front of AuthApi",
    },
    "warpcache": {
        "WARPCACHE_REDIS_AUTH_TOKEN": "compose's Redis listens on its own network without AUTH"
    },
}


def platform_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Compose services built from a service's or the gateway's own Dockerfile."""
    pattern = re.compile(r"^(services/[a-z]+|gateway)/Dockerfile$")
    return {
        name: service
        for name, service in compose["services"].items()
        if pattern.match(str(service.get("build", {}).get("dockerfile", "")))
    }


def environment(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in service.get("environment", {}).items()}


def secrets_of(env_vars: dict[str, str]) -> set[str]:
    return {name for name in env_vars if SECRET_NAME.search(name)}


def test_every_service_directory_is_a_compose_service(
    infra: Infra, compose: dict[str, Any]
) -> None:
    directories = {p.parent.name for p in infra.repo.glob("services/*/Dockerfile")} | {"gateway"}
    assert set(platform_services(compose)) == directories


def test_environment_declares_every_platform_service(
    environments: dict[str, TerraformDir], compose: dict[str, Any], env: str
) -> None:
    declared = set(environments[env].locals["services"])
    assert declared == set(platform_services(compose))


def test_ports_are_the_same(
    environments: dict[str, TerraformDir], compose: dict[str, Any], env: str
) -> None:
    services = environments[env].locals["services"]
    for name, service in platform_services(compose).items():
        env_vars = environment(service)
        assert services[name]["port"] == int(env_vars["HTTP_PORT"]), name
        grpc = services[name].get("grpc_port")
        assert grpc == (int(env_vars["GRPC_PORT"]) if "GRPC_PORT" in env_vars else None), name


def test_every_service_runs_its_own_image_from_its_own_repository(
    environments: dict[str, TerraformDir], env: str
) -> None:
    modules = environments[env].named("module")
    assert modules["ecr"]["images"] == (
        '${toset(concat(keys(local.services), ["ops"], local.deploy_keycloak ? ["keycloak"] : []))}'
    )
    service = modules["service"]
    assert service["for_each"] == "${local.services}"
    assert service["image"] == "${module.ecr.repository_urls[each.key]}:${var.image_tag}"
    assert service["ecr_repository_arn"] == "${module.ecr.repository_arns[each.key]}"
    assert service["source"] == "../../modules/ecs-service"


def test_secrets_are_the_same(
    environments: dict[str, TerraformDir], compose: dict[str, Any], env: str
) -> None:
    services = environments[env].locals["services"]
    for name, service in platform_services(compose).items():
        in_terraform = set(services[name]["secrets"])
        in_compose = secrets_of(environment(service))
        production_only = set(PRODUCTION_ONLY_SECRETS.get(name, {}))
        plain = in_compose - in_terraform
        assert not plain, f"{name}: not a secret in Terraform: {plain}"
        missing = in_terraform - in_compose - production_only
        assert not missing, f"{name}: secrets Terraform sets that compose does not: {missing}"


def test_every_compose_setting_is_set_in_terraform(
    environments: dict[str, TerraformDir], compose: dict[str, Any], env: str
) -> None:
    tf = environments[env].locals
    for name, service in platform_services(compose).items():
        declared = tf["services"][name]
        in_terraform = {"HTTP_PORT"} | set(tf["common_environment"])
        in_terraform |= set(declared["environment"]) | set(declared["secrets"])
        missing = set(environment(service)) - in_terraform - set(DEVELOPMENT_ONLY)
        assert not missing, f"{name}: compose sets {missing}, Terraform does not"


def test_no_secret_is_plain_environment(environments: dict[str, TerraformDir], env: str) -> None:
    tf = environments[env].locals
    plain = set(tf["common_environment"])
    for name, service in {**tf["services"], **tf["jobs"]}.items():
        leaked = secrets_of({k: "" for k in plain | set(service["environment"])})
        assert not leaked, f"{name}: secrets in plain environment: {leaked}"


def test_every_secret_named_exists_and_is_used(
    environments: dict[str, TerraformDir], env: str
) -> None:
    tf = environments[env].locals
    declared = set(tf["secrets"]) | {"redis-url", "redis-auth-token"}
    used = {
        secret
        for service in {**tf["services"], **tf["jobs"]}.values()
        for secret in service["secrets"].values()
    }
    assert used <= declared, f"undeclared secrets: {used - declared}"
    assert set(tf["secrets"]) <= used, f"secrets no service reads: {set(tf['secrets']) - used}"


def test_jobs_are_the_same(
    environments: dict[str, TerraformDir], compose: dict[str, Any], env: str
) -> None:
    ops = {
        name: service
        for name, service in compose["services"].items()
        if service.get("build", {}).get("dockerfile") == "infra/docker/ops.Dockerfile"
    }
    jobs = environments[env].locals["jobs"]
    assert set(ops) == set(jobs)
    for name, service in ops.items():
        assert service["restart"] == "no", name
        assert service["command"] == jobs[name]["command"], name
        in_terraform = set(jobs[name]["environment"]) | set(jobs[name]["secrets"])
        assert set(environment(service)) <= in_terraform, name
        assert secrets_of(environment(service)) == set(jobs[name]["secrets"]), name
    job_module = environments[env].named("module")["job"]
    assert job_module["image"] == '${module.ecr.repository_urls["ops"]}:${var.image_tag}'


def test_user_interfaces_are_the_same(
    environments: dict[str, TerraformDir], compose: dict[str, Any], env: str
) -> None:
    uis = {
        name for name, service in compose["services"].items() if "ui" in service.get("profiles", [])
    }
    assert uis == set(environments[env].locals["ui_hosts"])
    assert environments[env].named("module")["static_site"]["for_each"] == "${local.ui_hosts}"


@pytest.mark.parametrize(
    ("service", "path"), [("gateway", "/graphql"), ("auth", "/auth/*"), ("webhooks", "/webhooks/*")]
)
def test_public_paths(
    environments: dict[str, TerraformDir], env: str, service: str, path: str
) -> None:
    services = environments[env].locals["services"]
    assert path in services[service]["public_paths"]
    public = [name for name, s in services.items() if "public_paths" in s]
    assert sorted(public) == ["auth", "gateway", "webhooks"]


def test_service_sizes_name_real_services(
    environments: dict[str, TerraformDir], tfvars: dict[str, dict[str, Any]], env: str
) -> None:
    sizes = set(tfvars[env].get("service_sizes", {}))
    assert sizes <= set(environments[env].locals["services"])


def test_calls_name_real_services(environments: dict[str, TerraformDir], env: str) -> None:
    services = environments[env].locals["services"]
    for name, service in services.items():
        assert set(service.get("calls", [])) <= set(services) - {name}, name
