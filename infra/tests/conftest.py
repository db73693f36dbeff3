"""Fixtures of the infrastructure checks: the repository's compose file and Terraform, parsed.

No terraform binary or provider download is possible where these run, so the checks parse
the configuration (python-hcl2) and reason about it directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "infra" / "terraform"
ENVIRONMENTS = ("staging", "production")
MODULES = sorted(p for p in (TERRAFORM / "modules").iterdir() if p.is_dir())
ROOTS = [*(TERRAFORM / "environments" / env for env in ENVIRONMENTS), TERRAFORM / "bootstrap"]
#: The deployable packages, each with its Dockerfile, and the images of infra/.
PACKAGE_DIRS = [*sorted(p.parent for p in REPO.glob("services/*/pyproject.toml")), REPO / "gateway"]
OPS_DOCKERFILE = REPO / "infra" / "docker" / "ops.Dockerfile"
EMULATORS_DOCKERFILE = REPO / "infra" / "compose" / "emulators.Dockerfile"

_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True)
_META = {"__is_block__", "__comments__", "__inline_comments__"}


def load_hcl(path: Path) -> dict[str, Any]:
    """A .tf or .tfvars file as python-hcl2 reads it, string quotes stripped."""
    return hcl2.loads(path.read_text(), serialization_options=_OPTIONS)


def attributes(block: dict[str, Any]) -> dict[str, Any]:
    """A block's attributes and nested blocks, without python-hcl2's bookkeeping keys."""
    return {k: v for k, v in block.items() if k not in _META}


def code_without_comments(text: str) -> str:
    """Terraform source with its comments blanked (references in comments are prose)."""
    return re.sub(r"(?m)(^|\s)(#|//).*$", r"\1", text)


@dataclass
class TerraformDir:
    """The .tf files of one directory (a module, an environment), merged."""

    path: Path
    blocks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    code: str = ""

    @classmethod
    def load(cls, path: Path) -> TerraformDir:
        tf = cls(path)
        for file in sorted(path.glob("*.tf")):
            for kind, items in load_hcl(file).items():
                tf.blocks.setdefault(kind, []).extend(items)
            tf.code += code_without_comments(file.read_text()) + "\n"
        return tf

    def named(self, kind: str) -> dict[str, dict[str, Any]]:
        """Blocks with one label (variable, output, module), by label."""
        return {
            name: attributes(body)
            for item in self.blocks.get(kind, [])
            for name, body in item.items()
        }

    def typed(self, kind: str) -> dict[str, dict[str, Any]]:
        """Blocks with two labels (resource, data), by "type.name"."""
        return {
            f"{rtype}.{name}": attributes(body)
            for item in self.blocks.get(kind, [])
            for rtype, named in item.items()
            for name, body in named.items()
        }

    @property
    def locals(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for item in self.blocks.get("locals", []):
            merged.update(attributes(item))
        return merged


class Infra:
    """What the checks need of the repository: its paths and the parsers above."""

    repo = REPO
    terraform = TERRAFORM
    environments = ENVIRONMENTS
    modules = MODULES
    ops_dockerfile = OPS_DOCKERFILE
    emulators_dockerfile = EMULATORS_DOCKERFILE
    parse = staticmethod(load_hcl)
    attributes = staticmethod(attributes)
    load = staticmethod(TerraformDir.load)


def _relative(path: Path) -> str:
    return str(path.relative_to(REPO))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize by file: tf_file (every .tf and .tfvars), config_dir (every module and
    root), env (each environment), package_dir (each deployable package), dockerfile (every
    image)."""
    if "tf_file" in metafunc.fixturenames:
        files = sorted(TERRAFORM.rglob("*.tf")) + sorted(TERRAFORM.rglob("*.tfvars"))
        metafunc.parametrize("tf_file", files, ids=_relative)
    if "config_dir" in metafunc.fixturenames:
        metafunc.parametrize("config_dir", MODULES + ROOTS, ids=_relative)
    if "env" in metafunc.fixturenames:
        metafunc.parametrize("env", ENVIRONMENTS)
    if "package_dir" in metafunc.fixturenames:
        metafunc.parametrize("package_dir", PACKAGE_DIRS, ids=_relative)
    if "dockerfile" in metafunc.fixturenames:
        dockerfiles = [d / "Dockerfile" for d in PACKAGE_DIRS] + [
            OPS_DOCKERFILE,
            EMULATORS_DOCKERFILE,
        ]
        metafunc.parametrize("dockerfile", dockerfiles, ids=_relative)


@pytest.fixture(scope="session")
def infra() -> Infra:
    """Paths and parsers of the infrastructure code."""
    return Infra()


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """compose.yaml at the repository root (YAML anchors and merge keys resolved)."""
    return yaml.safe_load((REPO / "compose.yaml").read_text())


@pytest.fixture(scope="session")
def environments() -> dict[str, TerraformDir]:
    """Each environment's Terraform, by environment name."""
    return {env: TerraformDir.load(TERRAFORM / "environments" / env) for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def tfvars() -> dict[str, dict[str, Any]]:
    """Each environment's terraform.tfvars, by environment name."""
    return {
        env: load_hcl(TERRAFORM / "environments" / env / "terraform.tfvars") for env in ENVIRONMENTS
    }
