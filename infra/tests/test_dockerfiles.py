"""Every image is built the same way (services/*/Dockerfile, gateway/Dockerfile and the two
of infra/): generated code made in the build stage, the package and its locked dependencies
installed as wheels, a non-root user, a healthcheck, only the environment in the final image.
Each Dockerfile names its own package, command and ports."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Infra


def build_stage(dockerfile: Path) -> list[str]:
    """The instructions up to the package-specific install: the part every image shares."""
    lines = [
        line for line in dockerfile.read_text().splitlines() if line and not line.startswith("#")
    ]
    return lines[: next(i for i, line in enumerate(lines) if "UV_PROJECT_ENVIRONMENT" in line)]


def runtime_sync_packages(dockerfile: Path) -> list[str]:
    text = dockerfile.read_text().replace("\\\n", " ")
    sync = next(line for line in text.splitlines() if "--no-editable" in line)
    assert "uv sync --frozen --no-dev --no-editable" in sync
    return re.findall(r"--package (\S+)", sync)


def setting_default(package_dir: Path, name: str) -> int | None:
    for settings in package_dir.glob("src/*/settings.py"):
        match = re.search(rf"{name}: int = (?:Field\(default=)?(\d+)", settings.read_text())
        if match:
            return int(match.group(1))
    return None


def test_dockerfile_installs_and_runs_its_own_package(package_dir: Path) -> None:
    project = tomllib.loads((package_dir / "pyproject.toml").read_text())["project"]
    dockerfile = (package_dir / "Dockerfile").read_text()
    assert runtime_sync_packages(package_dir / "Dockerfile") == [project["name"]]
    command = re.search(r'(?m)^CMD \["([^"]+)"\]', dockerfile)
    assert command, "CMD in exec form"
    assert command.group(1) in project["scripts"]


def test_dockerfile_ports_are_the_settings_defaults(package_dir: Path) -> None:
    dockerfile = (package_dir / "Dockerfile").read_text().replace("\\\n", " ")
    expose = re.search(r"(?m)^EXPOSE (.+)$", dockerfile)
    assert expose, "EXPOSE"
    exposed = {int(p) for p in expose.group(1).split()}
    http_port = setting_default(package_dir, "http_port")
    assert http_port in exposed
    assert f"HTTP_PORT={http_port}" in dockerfile
    grpc_port = setting_default(package_dir, "grpc_port")
    if grpc_port is not None:
        assert grpc_port in exposed
        assert f"GRPC_PORT={grpc_port}" in dockerfile
        assert "GRPC_HOST=0.0.0.0" in dockerfile


def test_image_is_multi_stage_small_and_unprivileged(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    stages = re.findall(r"(?m)^FROM (\S+)(?: AS (\w+))?$", text)
    assert len(stages) == 2
    assert stages[0][1] == "build"
    assert stages[0][0] == stages[1][0], "build and final stage share one base image"
    final = text[text.rindex("\nFROM ") :]
    assert re.findall(r"(?m)^COPY (.+)$", final) == ["--from=build /app/.venv /app/.venv"]
    assert re.search(r"(?m)^USER 10001:10001$", final)
    assert re.search(r"(?m)^WORKDIR /var/lib/nudges$", final)
    assert 'VOLUME ["/tmp", "/var/lib/nudges"]' in final
    assert re.search(r"(?m)^HEALTHCHECK ", final)
    assert "apt-get" not in text


def test_build_stage_is_the_shared_template(infra: Infra, dockerfile: Path) -> None:
    """Identical build stages let Docker reuse one set of layers for every image."""
    template = build_stage(infra.repo / "gateway" / "Dockerfile")
    assert build_stage(dockerfile) == template
    text = "\n".join(template)
    generate = text.index("scripts/generate-*.sh")
    assert text.index("uv sync --frozen\n") < generate, "the generators' tools come first"
    assert text.index("rm -f .gitignore") > generate


def test_ops_image_carries_every_migration(infra: Infra) -> None:
    """`nudges migrate` finds migrations by entry point: the ops image must install them all."""
    with_migrations = sorted(
        tomllib.loads(p.read_text())["project"]["name"]
        for p in infra.repo.glob("services/*/pyproject.toml")
        if "nudges.migrations" in tomllib.loads(p.read_text())["project"].get("entry-points", {})
    )
    assert with_migrations
    assert sorted(runtime_sync_packages(infra.ops_dockerfile)) == with_migrations


def test_emulators_image_installs_the_emulators(infra: Infra) -> None:
    assert runtime_sync_packages(infra.emulators_dockerfile) == ["nudges-emulators"]


def test_dockerignore_keeps_local_state_out(infra: Infra) -> None:
    ignored = set((infra.repo / ".dockerignore").read_text().split())
    local_state = (".git", "**/.venv", ".nudges", "**/node_modules", "**/__pycache__")
    for entry in (*local_state, "**/_generated"):
        assert entry in ignored, entry
    for needed in ("uv.lock", "scripts", "proto", "libs", "services"):
        assert needed not in ignored, needed
