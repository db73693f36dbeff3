"""The supervisor of `make dev` over real processes: a crashing one restarts with a growing
delay while the others keep running, and only a stop ends them all."""

from __future__ import annotations

import asyncio
import io
import re
import sys

import pytest

from nudges_devstack.supervisor import Backoff, Program, Supervisor, describe_exit


def test_delays_double_from_the_first_and_stop_at_the_cap() -> None:
    backoff = Backoff(initial=0.5, maximum=4.0)
    assert [backoff.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_an_exit_is_described_by_its_status_or_its_signal() -> None:
    assert describe_exit(1) == "exited with 1"
    assert describe_exit(-9) == "was killed by SIGKILL"


async def test_a_crashing_program_restarts_and_the_others_keep_running() -> None:
    out = io.StringIO()
    steady = Program(
        "steady", [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
    )
    crashing = Program(
        "user", [sys.executable, "-c", "print('boom', flush=True); raise SystemExit(1)"]
    )
    supervisor = Supervisor([steady, crashing], out=out, backoff=Backoff(initial=0.05, maximum=0.2))

    async def stop_after_three_restarts(running: Supervisor) -> None:
        await running.restarted("user", 3)
        running.stop()

    await asyncio.wait_for(supervisor.run(stop_after_three_restarts), 60)

    text = out.getvalue()
    assert "user exited with 1, restarting in 0.05 s (attempt 1)" in text
    assert "user exited with 1, restarting in 0.1 s (attempt 2)" in text
    assert "user exited with 1, restarting in 0.2 s (attempt 3)" in text
    assert re.search(r"^\d\d:\d\d:\d\d user +\| boom$", text, re.MULTILINE)
    # The steady program started once, printed through its prefix, and was stopped at the end.
    assert len(re.findall(r"steady \| started with pid", text)) == 1
    assert re.search(r"steady \| up$", text, re.MULTILINE)
    assert "steady | steady stopped" in text
    assert supervisor.restarts["steady"] == 0


@pytest.mark.parametrize("argv", [["/nonexistent/nudges-user"]])
async def test_a_program_that_cannot_start_is_retried_not_fatal(argv: list[str]) -> None:
    out = io.StringIO()
    supervisor = Supervisor([Program("user", argv)], out=out, backoff=Backoff(initial=0.01))

    async def stop_after_a_retry(running: Supervisor) -> None:
        await running.restarted("user", 2)
        running.stop()

    await asyncio.wait_for(supervisor.run(stop_after_a_retry), 30)
    assert "could not start /nonexistent/nudges-user" in out.getvalue()
    assert "user exited with 127, restarting in 0.02 s (attempt 2)" in out.getvalue()
