"""Checkov over every Terraform file: no failed check. A check that does not apply is
skipped in the code, next to the resource, with its reason (#checkov:skip=CKV_...:why)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Infra

CHECKOV = "checkov==3.3.30"
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")


def _run(command: list[str], infra: Infra) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=infra.repo, capture_output=True, text=True, timeout=900, check=False
    )


def test_checkov_reports_no_failed_check(infra: Infra) -> None:
    uvx = shutil.which("uvx")
    if uvx is None:
        pytest.skip(f"uvx is not on PATH; checkov runs as an isolated tool: uvx --from {CHECKOV}")
    # Installing checkov needs PyPI; when that fails there is nothing to judge the code by.
    probe = _run([uvx, "--from", CHECKOV, "checkov", "--version"], infra)
    if probe.returncode != 0:
        pytest.skip(f"uvx could not install {CHECKOV}: {probe.stderr.strip()[-500:]}")

    # --skip-download: no call to Prisma Cloud for guideline links (offline, deterministic).
    scan = _run(
        [uvx, "--from", CHECKOV, "checkov", "-d", "infra/terraform", "--framework", "terraform",
         "--quiet", "--compact", "-o", "json", "--skip-download"],
        infra,
    )  # fmt: skip
    assert scan.stdout.strip(), f"checkov wrote no report (exit {scan.returncode}): {scan.stderr}"
    reports: Any = json.loads(scan.stdout)
    report = reports[0] if isinstance(reports, list) else reports
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c.get('check_name')}"
        for c in report.get("results", {}).get("failed_checks", [])
    ]
    assert summary["parsing_errors"] == 0, summary
    assert summary["resource_count"] > 0, summary
    assert summary["failed"] == 0, "\n".join(failed)


def test_every_checkov_skip_says_why(infra: Infra) -> None:
    skips = [
        (path.relative_to(infra.repo), match)
        for path in sorted(infra.terraform.rglob("*.tf"))
        for match in SKIP_COMMENT.finditer(path.read_text())
    ]
    assert skips, "expected the justified skips of the modules"
    unjustified = [
        f"{path}: {m.group(1)}" for path, m in skips if len((m.group(2) or "").strip()) < 20
    ]
    assert not unjustified, f"skips without a reason: {unjustified}"
