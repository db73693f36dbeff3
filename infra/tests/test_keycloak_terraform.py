"""Keycloak on AWS: each environment runs its own (the `nudges` realm imported, its database
on the RDS instance, reachable by the UIs for OIDC on id.<domain>, its admin console not
routed), unless `keycloak_url` points at an existing one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import Infra, TerraformDir


def keycloak(environments: dict[str, TerraformDir], env: str) -> dict[str, Any]:
    return environments[env].named("module")["keycloak"]


def test_keycloak_runs_unless_an_existing_one_is_named(
    environments: dict[str, TerraformDir], tfvars: dict[str, dict[str, Any]], env: str
) -> None:
    tf = environments[env]
    assert tf.named("variable")["keycloak_url"]["default"] == ""
    assert tf.locals["deploy_keycloak"] == '${var.keycloak_url == ""}'
    assert keycloak(environments, env)["count"] == "${local.deploy_keycloak ? 1 : 0}"
    assert tf.named("module")["keycloak_access"]["count"] == "${local.deploy_keycloak ? 1 : 0}"
    # AuthApi follows whichever Keycloak the environment uses.
    assert tf.locals["keycloak_url"] == (
        '${local.deploy_keycloak ? "https://${local.id_host}" : var.keycloak_url}'
    )
    assert tf.locals["services"]["auth"]["environment"]["KEYCLOAK_URL"] == "${local.keycloak_url}"
    assert "keycloak_url" not in tfvars[env], "both environments run their own Keycloak"


def test_only_the_realm_is_public_never_the_admin_console(
    environments: dict[str, TerraformDir], env: str
) -> None:
    balancer = keycloak(environments, env)["load_balancer"]
    assert balancer["host_headers"] == ["${local.id_host}"]
    paths = balancer["path_patterns"]
    assert set(paths) == {"/realms/nudges", "/realms/nudges/*", "/resources/*"}
    assert not any(p.startswith(("/admin", "/realms/master", "/realms/*")) for p in paths)
    assert balancer["health_check_path"] == "/realms/nudges"


def test_database_and_secrets(environments: dict[str, TerraformDir], env: str) -> None:
    module = keycloak(environments, env)
    variables = module["environment"]
    assert variables["KC_DB"] == "postgres"
    assert variables["KC_DB_URL"].startswith("jdbc:postgresql://${module.rds.address}:")
    assert variables["KC_DB_URL"].endswith("/keycloak?sslmode=require")
    assert variables["KC_HOSTNAME"] == "https://${local.id_host}"
    assert variables["KC_PROXY_HEADERS"] == "xforwarded"
    assert not any("PASSWORD" in name for name in variables)
    assert set(module["secrets"]) == {"KC_DB_PASSWORD", "KC_BOOTSTRAP_ADMIN_PASSWORD"}
    declared = str(environments[env].locals["keycloak_secrets"])
    assert '"keycloak-db-password"' in declared
    assert '"keycloak-admin-password"' in declared
    access = environments[env].named("module")["keycloak_access"]["services"]["keycloak"]
    assert access["postgres"] is True


def test_image_imports_the_realm(infra: Infra) -> None:
    dockerfile = (infra.repo / "infra" / "docker" / "keycloak.Dockerfile").read_text()
    assert "COPY infra/keycloak/nudges-realm.json /opt/keycloak/data/import/" in dockerfile
    assert 'CMD ["start", "--optimized", "--import-realm"]' in dockerfile
    assert "kc.sh build" in dockerfile


def test_the_ui_and_auth_reach_keycloak_on_its_host(
    environments: dict[str, TerraformDir], env: str
) -> None:
    dns = environments[env].named("module")["dns"]
    assert "local.id_host" in str(dns["regional_certificate_domains"])
    assert "local.id_host" in str(dns["alias_records"])
