"""The Admin and Signup UIs (web/admin, web/signup): each app typechecks, lints and passes
its component tests; and (slow) both built apps, served as in production, work in Chromium
against the whole platform through the gateway."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

WEB = Path(__file__).resolve().parents[1]
APPS = ("admin", "signup")
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


def test_both_apps_share_one_copy_of_the_common_code() -> None:
    """web/*/src/lib is the same in both apps (each image builds from its own folder)."""
    admin, signup = WEB / "admin" / "src" / "lib", WEB / "signup" / "src" / "lib"
    names = sorted(p.name for p in admin.iterdir())
    assert names == sorted(p.name for p in signup.iterdir())
    _, differ, missing = filecmp.cmpfiles(admin, signup, names, shallow=False)
    assert (differ, missing) == ([], []), f"web/*/src/lib differ: {differ or missing}"


@pytest.mark.parametrize("script", ["typecheck", "lint", "test"])
@pytest.mark.parametrize("app", APPS)
def test_app(app: str, script: str) -> None:
    """`npm run typecheck` (tsc), `lint` (eslint) and `test` (vitest) pass."""
    _installed(WEB / app)
    _run([_npm(), "run", script], WEB / app)


@pytest.mark.slow
def test_the_uis_in_chromium_against_the_platform(ui_platform: Any, tmp_path: Path) -> None:
    """Admin OTP sign-in, a plan whose Stripe ids arrive live, a discount code; a client's
    sign-up to the Stripe checkout page, payment, the live dashboard; a subscriber joining; an
    announcement texted and confirmed by SMS showing on both dashboards with its recipient and
    delivery counts; the admin finding the client and its subscriber; the subscriber leaving; pages
    fitting a 360px screen. Screenshots land in tmp_path on failure."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: `apt-get install -y chromium` "
            "(.ci/run installs it); the browser tests cannot run without it"
        )
    for app in APPS:
        _installed(WEB / app)
        _run([_npm(), "run", "build"], WEB / app)
    _installed(WEB / "tests")
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
    assert '"failed":null' in output, output
