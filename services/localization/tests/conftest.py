"""The real LocalizationApi, started once per test session: the ``nudges-localization``
process (gRPC and HTTP on free ports) over freshly compiled catalogs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from nudges_devstack.infra import free_port
from nudges_kit.localization import LocalizationClient

REPOSITORY = Path(__file__).resolve().parents[3]
LOCALES = REPOSITORY / "services/localization/src/nudges_localization/locales"


@dataclass(frozen=True)
class RunningLocalization:
    """Where the session's LocalizationApi listens."""

    grpc_target: str
    http_url: str

    def metric(self, name: str, **labels: str) -> float:
        """The current value of one sample of ``/metrics`` (0 when absent)."""
        text = httpx.get(f"{self.http_url}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    return float(sample.value)
        return 0.0


@pytest.fixture(scope="session")
def compiled_catalogs() -> Path:
    """The catalogs compiled from the current .po files, as ``make generate`` does."""
    subprocess.run(
        ["bash", str(REPOSITORY / "scripts/generate-catalogs.sh")],
        check=True,
        capture_output=True,
    )
    return LOCALES


@pytest.fixture(scope="session")
def localization_server(
    compiled_catalogs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningLocalization]:
    """``nudges-localization`` running in its own process until the session ends."""
    grpc_port, http_port = free_port(), free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "GRPC_PORT": str(grpc_port),
        "HTTP_PORT": str(http_port),
        "CATALOG_DIR": str(compiled_catalogs),
    }
    log_path = tmp_path_factory.mktemp("localization") / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "nudges_localization.main"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = RunningLocalization(f"127.0.0.1:{grpc_port}", f"http://127.0.0.1:{http_port}")
    try:
        _wait_ready(server, process, log_path)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(
    server: RunningLocalization, process: subprocess.Popen[bytes], log_path: Path
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nudges-localization exited:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{server.http_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nudges-localization not ready in 60 s:\n{log_path.read_text()}")


@pytest.fixture(scope="session")
async def localization(
    localization_server: RunningLocalization,
) -> AsyncIterator[LocalizationClient]:
    """The kit's client of the session's LocalizationApi."""
    async with LocalizationClient(localization_server.grpc_target, timeout=5.0) as client:
        yield client
