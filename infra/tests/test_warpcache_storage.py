"""WarpCache as Terraform deploys it: at least two tasks on the redis engine, on an
ElastiCache replication group that is Multi-AZ, encrypted in transit, bounded with a
volatile-lru policy, and opened with an AUTH token that reaches the tasks from Secrets
Manager. compose.yaml runs it the same way on its own Redis."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from nudges_warpcache.settings import WarpcacheSettings

if TYPE_CHECKING:
    from conftest import Infra, TerraformDir


def _one(value: Any) -> Any:
    # python-hcl2 gives a nested block as a list of one dict.
    return value[0] if isinstance(value, list) else value


def test_warpcache_runs_two_tasks_or_more_on_redis(
    environments: dict[str, TerraformDir], tfvars: dict[str, dict[str, Any]], env: str
) -> None:
    warpcache = environments[env].locals["services"]["warpcache"]
    assert warpcache["environment"]["WARPCACHE_ENGINE"] == "redis"
    assert warpcache["environment"]["WARPCACHE_REDIS_URL"].startswith("rediss://")
    assert warpcache["secrets"]["WARPCACHE_REDIS_AUTH_TOKEN"] == "redis-auth-token"
    assert warpcache["redis"] is True  # its security group may reach the cache

    assert tfvars[env]["redis_enabled"] is True
    size = tfvars[env]["service_sizes"]["warpcache"]
    assert size["min"] >= 2
    assert size["max"] >= size["min"]
    service = environments[env].named("module")["service"]
    assert service["desired_count"].endswith(".min}")
    assert service["min_count"].endswith(".min}")


def test_the_auth_token_secret_reaches_the_tasks(
    environments: dict[str, TerraformDir], env: str
) -> None:
    tf = environments[env]
    assert "redis.auth_token_secret_arn" in tf.code
    assert '"redis-auth-token" => redis.auth_token_secret_arn' in tf.code


def test_elasticache_is_multi_az_encrypted_and_bounded(infra: Infra) -> None:
    module = infra.load(infra.terraform / "modules" / "elasticache")
    resources = module.typed("resource")
    group = resources["aws_elasticache_replication_group.this"]
    assert group["multi_az_enabled"] is True
    assert group["automatic_failover_enabled"] is True
    assert group["transit_encryption_enabled"] is True
    assert group["at_rest_encryption_enabled"] is True
    assert group["auth_token"] == "${random_password.auth_token.result}"
    assert group["parameter_group_name"] == "${aws_elasticache_parameter_group.this.name}"

    parameters = resources["aws_elasticache_parameter_group.this"]["parameter"]
    policy = {_one(p)["name"]: _one(p)["value"] for p in parameters}
    assert policy == {"maxmemory-policy": "volatile-lru"}

    token = resources["aws_secretsmanager_secret_version.auth_token"]
    assert token["secret_string"] == "${random_password.auth_token.result}"
    assert "auth_token_secret_arn" in module.named("output")


def test_the_task_environment_is_valid_warpcache_settings(
    environments: dict[str, TerraformDir], env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tf = environments[env].locals
    warpcache = tf["services"]["warpcache"]
    # The task's environment as Terraform writes it, interpolations and secrets replaced by
    # placeholders of the same shape.
    env_vars = {
        **{k: str(v) for k, v in tf["common_environment"].items() if "${" not in str(v)},
        **{k: v for k, v in warpcache["environment"].items() if "${" not in v},
        "KAFKA_AWS_REGION": "us-east-1",
        "WARPCACHE_REDIS_URL": "rediss://primary.example.cache.amazonaws.com:6379/0",
        "WARPCACHE_REDIS_AUTH_TOKEN": "placeholder-token",
        "WARPCACHE_CALLERS": '{"auth": "placeholder-auth-token"}',
    }
    assert set(warpcache["secrets"]) <= set(env_vars)
    for name, value in env_vars.items():
        monkeypatch.setenv(name, value)
    settings = WarpcacheSettings()
    assert settings.environment == "production"
    assert settings.warpcache_engine == "redis"
    assert settings.warpcache_redis_auth_token is not None


def test_compose_runs_warpcache_on_its_redis(compose: dict[str, Any]) -> None:
    warpcache = compose["services"]["warpcache"]
    assert warpcache["environment"]["WARPCACHE_ENGINE"] == "redis"
    assert warpcache["environment"]["WARPCACHE_REDIS_URL"] == "redis://redis:6379/0"
    assert warpcache["depends_on"]["redis"] == {"condition": "service_healthy"}
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "volatile-lru"
