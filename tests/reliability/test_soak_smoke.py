"""Ten seconds of the soak's mixed traffic (``bench/soak.py``; ``make bench-soak`` runs it for
a minute): every request is valid, so none may fail and none may answer 5xx."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from reliability_support import PHONES_USED, client_ip, figure, new_phone

from nudges_devstack.platform import Platform

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

SOAK_SCRIPT = Path(__file__).parents[2] / "bench" / "soak.py"


def _soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nudges_bench_soak", SOAK_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve their annotations there
    spec.loader.exec_module(module)
    return module


def test_ten_seconds_of_mixed_traffic_without_an_error(platform: Platform) -> None:
    soak = _soak_module()

    report = asyncio.run(
        soak.soak(
            platform,
            seconds=10,
            concurrency=8,
            max_requests=5_000,
            phones=new_phone,
            addresses=client_ip,
        )
    )
    PHONES_USED.update(report.phones)
    print(report.table())

    assert report.requests > 100, report.table()
    assert report.server_errors == 0, report.table()
    assert report.errors == 0, report.table()
    assert {"auth", "user", "product", "payment", "webhooks", "gateway"} <= set(report.stats)
    figure(
        "soak smoke (10 s, 8 workers)",
        f"{report.requests} requests, {report.requests / report.seconds:.0f} req/s, "
        f"{report.errors} errors, {report.server_errors} 5xx",
    )
    for name, stats in sorted(report.stats.items()):
        figure(
            f"soak smoke: {name}",
            f"{len(stats.latencies)} requests, p50 {stats.percentile(50):.0f} ms, "
            f"p99 {stats.percentile(99):.0f} ms, RSS "
            f"{report.rss_after_kib[name] / 1024:.0f} MiB "
            f"({(report.rss_after_kib[name] - report.rss_before_kib[name]) / 1024:+.1f})",
        )
