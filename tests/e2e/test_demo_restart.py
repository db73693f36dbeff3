"""``make dev`` stopped and started again: the Stripe emulator keeps its account under the
state directory as PostgreSQL keeps the plans that name its prices, so the whole story
(``scripts/demo.py``) runs again after the restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nudges_devstack.infra import Postgres, TansuBroker
from nudges_devstack.platform import Platform

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ADMIN_PHONE = "+14155550177"
DEMO_URLS = {
    "gateway": "gateway",
    "auth": "auth",
    "user": "user",
    "product": "product",
    "payment": "payment",
    "webhooks": "webhooks",
    "consumers": "consumers",
    "stripe_emulator": "stripe-emulator",
    "twilio_emulator": "twilio-emulator",
}


@pytest.fixture(scope="module")
def dev_platform(
    postgres: Postgres, platform_broker: TansuBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    """The platform with the Stripe emulator's state in a file, as ``nudges-dev up`` runs it."""
    state = tmp_path_factory.mktemp("dev-platform")
    running = Platform(
        postgres.url,
        platform_broker.bootstrap_servers,
        state,
        overrides={
            "stripe-emulator": {"STRIPE_EMULATOR_STATE_FILE": str(state / "stripe-emulator.json")}
        },
    )
    try:
        running.start()
        _seed_admin(running)
        yield running
    finally:
        running.stop()


def _seed_admin(platform: Platform) -> None:
    """The admin who creates the demo's plan (the ``nudges.seeds`` entry points)."""
    code = (
        "from importlib.metadata import entry_points\n"
        "for seed in entry_points(group='nudges.seeds'):\n"
        "    seed.load()()\n"
    )
    env = {**os.environ, **platform.env("user"), "SEED_ADMIN_PHONE": ADMIN_PHONE}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def _demo(platform: Platform) -> subprocess.CompletedProcess[str]:
    env = {f"NUDGES_{key.upper()}_URL": platform.url(name) for key, name in DEMO_URLS.items()}
    env["NUDGES_DEMO_ADMIN_PHONE"] = ADMIN_PHONE
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py")],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _restart_everything(platform: Platform) -> None:
    """Ctrl-C and ``make dev`` again: every process stopped, then started on the same ports
    over the same databases and state directory."""
    for name in reversed(list(platform.processes)):
        platform.kill_service(name, signal.SIGTERM)
    for name in platform.services:
        platform.start_service(name)


def test_the_demo_runs_again_after_a_restart(dev_platform: Platform) -> None:
    first = _demo(dev_platform)
    assert first.returncode == 0, first.stdout + first.stderr
    _restart_everything(dev_platform)
    again = _demo(dev_platform)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Done: the whole story ran." in again.stdout
