"""The Terraform parses, and its pieces fit together: what `terraform validate` would catch
first, checked without the terraform binary (there is none here, nor provider downloads)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Infra

MODULE_META_ARGUMENTS = {"source", "version", "count", "for_each", "providers", "depends_on"}
RESOURCE_PREFIXES = ("aws_", "random_")


def test_every_terraform_file_parses(infra: Infra, tf_file: Path) -> None:
    assert infra.parse(tf_file), f"{tf_file} is empty"


def test_the_issue_s_modules_exist(infra: Infra) -> None:
    expected = {
        "network", "ecs-service", "alb", "service-discovery", "msk", "rds", "elasticache",
        "static-site", "state-backend", "dns", "secrets", "ecr",
    }  # fmt: skip
    assert expected <= {m.name for m in infra.modules}


def test_environment_has_its_files(infra: Infra, env: str) -> None:
    files = {p.name for p in (infra.terraform / "environments" / env).iterdir()}
    expected = {"main.tf", "variables.tf", "outputs.tf", "backend.tf", "versions.tf"}
    assert expected | {"terraform.tfvars"} <= files


def test_variables_and_outputs_are_described(infra: Infra, config_dir: Path) -> None:
    tf = infra.load(config_dir)
    for kind in ("variable", "output"):
        undescribed = [name for name, body in tf.named(kind).items() if not body.get("description")]
        assert not undescribed, f"{kind}s without a description: {undescribed}"
    untyped = [name for name, body in tf.named("variable").items() if "type" not in body]
    assert not untyped, f"variables without a type: {untyped}"


def test_references_name_what_is_declared(infra: Infra, config_dir: Path) -> None:
    """Every var.X, local.X, resource and data source referenced is declared in the directory."""
    tf = infra.load(config_dir)
    declared_vars = set(tf.named("variable"))
    used_vars = set(re.findall(r"\bvar\.([a-z0-9_]+)", tf.code))
    assert used_vars <= declared_vars, f"undeclared variables: {used_vars - declared_vars}"

    used_locals = set(re.findall(r"\blocal\.([a-z0-9_]+)", tf.code))
    assert used_locals <= set(tf.locals), f"undefined locals: {used_locals - set(tf.locals)}"

    resources, data = set(tf.typed("resource")), set(tf.typed("data"))
    for match in re.finditer(r"(?<![\w.])(data\.)?([a-z0-9]+_[a-z0-9_]+)\.([a-z0-9_]+)", tf.code):
        is_data, rtype, name = match.groups()
        if rtype.startswith(RESOURCE_PREFIXES):
            ref = f"{rtype}.{name}"
            assert ref in (data if is_data else resources), f"undeclared {match.group(0)}"


def test_module_calls_match_the_modules(infra: Infra, config_dir: Path) -> None:
    """A call passes only the module's variables, every required one, and uses real outputs."""
    tf = infra.load(config_dir)
    calls = tf.named("module")
    for name, call in calls.items():
        variables = infra.load((config_dir / call["source"]).resolve()).named("variable")
        passed = set(call) - MODULE_META_ARGUMENTS
        assert passed <= set(variables), f"module {name} passes unknown {passed - set(variables)}"
        required = {v for v, body in variables.items() if "default" not in body}
        assert required <= passed, f"module {name} misses required {required - passed}"

    for name, output in re.findall(r"\bmodule\.([a-z0-9_]+)(?:\[[^\]]*\])?\.([a-z0-9_]+)", tf.code):
        assert name in calls, f"module.{name} is not called here"
        outputs = infra.load((config_dir / calls[name]["source"]).resolve()).named("output")
        assert output in outputs, f"module {name} has no output {output}"


def test_tfvars_set_declared_variables_and_every_required_one(infra: Infra, env: str) -> None:
    root = infra.terraform / "environments" / env
    variables = infra.load(root).named("variable")
    values = infra.attributes(infra.parse(root / "terraform.tfvars"))
    assert set(values) <= set(variables), f"undeclared: {set(values) - set(variables)}"
    required = {v for v, body in variables.items() if "default" not in body}
    assert required <= set(values), f"required variables unset: {required - set(values)}"
    assert values["environment"] == env


def test_environments_share_one_main_tf(infra: Infra) -> None:
    """Staging and production differ only in their tfvars (and backend key)."""
    staging, production = (
        (infra.terraform / "environments" / env / "main.tf").read_text()
        for env in infra.environments
    )
    assert staging == production


def _s3_backend(infra: Infra, env: str) -> dict[str, object]:
    terraform = infra.parse(infra.terraform / "environments" / env / "backend.tf")["terraform"][0]
    return infra.attributes(terraform["backend"][0]["s3"])


def test_backend_keeps_each_environment_apart(infra: Infra, env: str) -> None:
    backend = _s3_backend(infra, env)
    assert backend["key"] == f"{env}/terraform.tfstate"
    assert backend["encrypt"] is True


def test_backend_names_what_bootstrap_creates(infra: Infra, env: str) -> None:
    name = infra.load(infra.terraform / "bootstrap").named("variable")["name"]["default"]
    backend = _s3_backend(infra, env)
    assert backend["bucket"] == name
    assert backend["dynamodb_table"] == f"{name}-locks"
    assert backend["kms_key_id"] == f"alias/{name}"
