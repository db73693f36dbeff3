"""A newcomer's first command: a fresh clone, a fresh virtual environment as the only Python
tools on the PATH (no uv anywhere), and `make dev-check` works the first time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nudges_devstack.infra import Postgres, free_port, free_port_offset
from nudges_devstack.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
#: What the newcomer's machine passes on: where pip finds packages, and uv's download cache.
PASSED_ON = ("HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "UV_CACHE_DIR")


def _service_ports() -> list[int]:
    return [p for s in SERVICES for p in (s.port, s.grpc_port) if p is not None]


@pytest.mark.slow
def test_make_dev_check_works_the_first_time_in_a_fresh_clone(
    tmp_path: Path, postgres: Postgres
) -> None:
    clone = tmp_path / "nudges"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if k in PASSED_ON or k.startswith("PIP_")}
    env.update(
        {
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "POSTGRES_URL": postgres.url,
            "NUDGES_STATE_DIR": str(tmp_path / "state"),
            "KAFKA_PORT": str(free_port()),
            # Beside any platform on the default ports on this machine.
            "NUDGES_PORT_OFFSET": str(free_port_offset(_service_ports())),
        }
    )
    assert shutil.which("uv", path=env["PATH"]) is None  # the premise of the test
    result = subprocess.run(
        ["make", "dev-check"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    tail = result.stdout[-4000:] + result.stderr[-3000:]
    assert result.returncode == 0, tail
    assert f"all {len(SERVICES)} services healthy" in result.stdout, tail
