"""The ``nudges-dev`` command says its version and what each of its sub-commands does, and
where ``make dev`` keeps the emulators' state."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from nudges_devstack.cli import STATE_DIR, _parser, _programs
from nudges_devstack.services import SERVICES
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


def test_make_dev_keeps_the_emulators_state_under_the_state_directory() -> None:
    emulators = [s for s in SERVICES if s.name.endswith("-emulator")]
    programs = _programs(emulators, {"ENVIRONMENT": "development"}, 0)
    for program in programs:
        name = program.name.removesuffix("-emulator").upper()
        path = Path(program.env[f"{name}_EMULATOR_STATE_FILE"])
        assert path == (STATE_DIR / f"{program.name}.json").resolve()
