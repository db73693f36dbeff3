"""`make dev` on this machine: infrastructure chosen, databases migrated, an admin seeded,
and every service ready."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from nudges_devstack.infra import Postgres, free_port
from nudges_devstack.services import runnable_services
from nudges_kit.settings import with_database


@pytest.mark.slow
def test_every_service_becomes_ready(tmp_path: Path, postgres: Postgres) -> None:
    env = {**os.environ, "NUDGES_STATE_DIR": str(tmp_path), "POSTGRES_URL": postgres.url}
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "nudges-dev"),
            "up",
            "--check",
            "--kafka-port",
            str(free_port()),
            "--timeout",
            "120",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    tail = result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, tail
    assert f"all {len(runnable_services(Path.cwd()))} services healthy" in result.stdout
    assert "migrated: consumersdb, paymentdb, productdb, registrydb, userdb" in result.stdout
    with psycopg.connect(with_database(postgres.url, "userdb")) as conn:
        admins = conn.execute("SELECT count(*) FROM admins").fetchone()
    assert admins is not None
    assert admins[0] >= 1
