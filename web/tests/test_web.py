"""The Admin and Signup UIs (web/admin, web/signup, on the shared package web/shared; one npm
workspace): each package typechecks and lints, each app passes its component tests; and (slow)
both built apps, served as in production, work in Chromium against the whole platform through
the gateway."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

WEB = Path(__file__).resolve().parents[1]
REPO = WEB.parent
APPS = ("admin", "signup")
#: Each workspace package and the npm scripts it must pass.
CHECKS = [("shared", "typecheck"), ("shared", "lint")] + [
    (app, script) for app in APPS for script in ("typecheck", "lint", "test")
]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ADMIN_PHONE = "+14155550190"


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed: the UI tests need Node 20 and npm")
    return npm


def _run(args: list[str], cwd: Path, timeout: float = 300, **env: str) -> str:
    done = subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "CI": "true", "NO_COLOR": "1", "FORCE_COLOR": "0", **env},
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(args)} in {cwd} failed:\n{output[-6000:]}"
    return output


def _installed(package: Path) -> None:
    """``npm ci`` unless node_modules already holds what package-lock.json says."""
    lock = package / "package-lock.json"
    installed = package / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    _run([_npm(), "ci", "--no-audit", "--no-fund", "--loglevel=error"], package)


def test_one_workspace_with_one_lock_file() -> None:
    """web/ is one npm workspace: one package-lock.json, and both apps depend on the shared
    package instead of holding copies of it."""
    root = json.loads((WEB / "package.json").read_text())
    assert set(root["workspaces"]) == {"shared", *APPS, "tests"}
    assert sorted(WEB.glob("*/package-lock.json")) == []
    for app in APPS:
        package = json.loads((WEB / app / "package.json").read_text())
        assert "@nudges/shared" in package["dependencies"], app
        assert not (WEB / app / "src" / "lib").exists(), f"{app} keeps its own copy of shared code"


def test_the_uis_schema_is_the_public_graph_of_today() -> None:
    """web/schema.graphql is the API schema of the subgraphs' composition as it is now."""
    _run([sys.executable, str(REPO / "scripts" / "web_schema.py"), "--check"], REPO)


def test_generated_operation_types_are_up_to_date(tmp_path: Path) -> None:
    """web/*/src/generated/graphql.ts are what GraphQL Code Generator makes now of each app's
    operations and schema.graphql (which also refuses an operation the schema does not serve)."""
    _installed(WEB)
    _run([_npm(), "run", "codegen"], WEB, CODEGEN_OUT=str(tmp_path))
    for app in APPS:
        generated = Path(app) / "src" / "generated" / "graphql.ts"
        assert (tmp_path / generated).read_text() == (WEB / generated).read_text(), (
            f"web/{generated} is stale: run `make web-codegen`"
        )


@pytest.mark.parametrize(("package", "script"), CHECKS)
def test_package(package: str, script: str) -> None:
    """`npm run typecheck` (tsc), `lint` (eslint) and, in the apps, `test` (vitest) pass."""
    _installed(WEB)
    _run([_npm(), "run", script], WEB / package)


@pytest.mark.slow
def test_the_uis_in_chromium_against_the_platform(ui_platform: Any, tmp_path: Path) -> None:
    """Admin OTP sign-in, a plan whose Stripe ids arrive live, a discount code; a client's
    sign-up to the Stripe checkout page, payment, the live dashboard; a subscriber joining; an
    announcement texted and confirmed by SMS showing on both dashboards with its recipient and
    delivery counts; the admin finding the client and its subscriber; the subscriber leaving; pages
    fitting a 360px screen. axe-core checks every page opened, signed in and out: no serious or
    critical violation (each page's count is printed). Screenshots land in tmp_path on failure."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: `apt-get install -y chromium` "
            "(.ci/run installs it); the browser tests cannot run without it"
        )
    _installed(WEB)
    for app in APPS:
        _run([_npm(), "run", "build"], WEB / app)
    ui_platform.make_admin(ADMIN_PHONE)
    screenshots = tmp_path / "screenshots"
    node = shutil.which("node") or "node"
    output = _run(
        [node, "e2e.mjs"],
        WEB / "tests",
        timeout=240,
        E2E_GATEWAY=ui_platform.url("gateway"),
        E2E_AUTH=ui_platform.url("auth"),
        E2E_STRIPE=ui_platform.url("stripe-emulator"),
        E2E_TWILIO=ui_platform.url("twilio-emulator"),
        E2E_ADMIN_PHONE=ADMIN_PHONE,
        E2E_OUT=str(screenshots),
        CHROMIUM=CHROMIUM,
    )
    print("\n".join(line for line in output.splitlines() if line.startswith("axe ")))
    assert '"failed":null' in output, output
