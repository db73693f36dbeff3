"""The ``nudges-dev`` command says its version and what each of its sub-commands does."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from nudges_devstack.cli import _parser
from nudges_devstack.testing import undocumented


def test_nudges_dev_prints_its_version() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "nudges-dev"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == f"nudges-dev {version('nudges-devstack')}"


def test_every_sub_command_and_argument_has_help() -> None:
    assert undocumented(_parser()) == []
