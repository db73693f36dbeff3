"""`make dev` on this machine: infrastructure chosen, databases migrated, an admin seeded,
and every service ready."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from nudges_devstack.infra import Postgres, free_port, free_port_offset
from nudges_devstack.services import SERVICES, runnable_services
from nudges_kit.settings import with_database


@pytest.mark.slow
def test_every_service_becomes_ready(tmp_path: Path, postgres: Postgres) -> None:
    offset = free_port_offset(p for s in SERVICES for p in (s.port, s.grpc_port) if p)
    env = {
        **os.environ,
        "NUDGES_STATE_DIR": str(tmp_path),
        "POSTGRES_URL": postgres.url,
        # Beside any platform on the default ports.
        "NUDGES_PORT_OFFSET": str(offset),
    }
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
    services = runnable_services(Path.cwd(), offset)
    assert f"all {len(services)} services healthy" in result.stdout
    # One table once all are ready: every service, where it answers, and its state.
    assert re.search(r"^service +URL +state$", result.stdout, re.MULTILINE), tail
    for service in services:
        row = rf"^{service.name} +{re.escape(service.url)} +healthy$"
        assert re.search(row, result.stdout, re.MULTILINE), tail
    assert "migrated: consumersdb, paymentdb, productdb, registrydb, userdb" in result.stdout
    with psycopg.connect(with_database(postgres.url, "userdb")) as conn:
        admins = conn.execute("SELECT count(*) FROM admins").fetchone()
    assert admins is not None
    assert admins[0] >= 1
