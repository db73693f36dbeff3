"""The supervisor of ``make dev``: every process's output with its name in front, a crashed
process started again after a capped exponential delay, and everything stopped only on Ctrl-C
(SIGINT) or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TextIO

#: ANSI colours of the name prefixes, when the output is a terminal.
COLOURS = (36, 33, 32, 35, 34, 31, 96, 93, 92, 95, 94, 91)
#: The longest output line relayed whole (a stack trace in one JSON log line fits).
LINE_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Backoff:
    """Delays between restarts: ``initial``, doubled each attempt, never above ``maximum``
    (tenacity's ``wait_exponential``); a process that ran ``stable_after`` seconds before it
    exited starts again from the first delay."""

    initial: float = 0.5
    maximum: float = 30.0
    stable_after: float = 60.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before restart number ``attempt`` (1 for the first)."""
        return float(min(self.maximum, self.initial * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Program:
    """One supervised process: its name, command line and environment."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))


def describe_exit(code: int) -> str:
    """``exited with 1`` or ``was killed by SIGKILL``."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with {code}"


class Supervisor:
    """Runs :class:`Program` s until :meth:`stop` (SIGINT and SIGTERM call it): a program that
    exits is started again after :class:`Backoff`'s delay, and the others keep running."""

    def __init__(
        self,
        programs: list[Program],
        out: TextIO | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.programs = programs
        self.out = out or sys.stdout
        self.backoff = backoff or Backoff()
        self.restarts: dict[str, int] = {p.name: 0 for p in programs}
        self._processes: dict[str, asyncio.subprocess.Process] = {}
        self._stopping = asyncio.Event()
        self._restarted = asyncio.Condition()
        self._width = max((len(p.name) for p in programs), default=0)
        colour = self.out.isatty()
        self._prefix = {
            p.name: self._make_prefix(p.name, COLOURS[i % len(COLOURS)] if colour else None)
            for i, p in enumerate(programs)
        }
        self._prefix["nudges-dev"] = self._make_prefix("nudges-dev", None)

    def _make_prefix(self, name: str, colour: int | None) -> str:
        label = f"{name:<{self._width}} |"
        return f"\x1b[{colour}m{label}\x1b[0m" if colour else label

    def say(self, name: str, line: str) -> None:
        """Write ``line`` with ``name``'s prefix and the time."""
        stamp = time.strftime("%H:%M:%S")
        prefix = self._prefix.get(name) or self._make_prefix(name, None)
        self.out.write(f"{stamp} {prefix} {line}\n")
        self.out.flush()

    async def restarted(self, name: str, times: int) -> None:
        """Return once program ``name`` has been restarted ``times`` times."""
        async with self._restarted:
            await self._restarted.wait_for(lambda: self.restarts[name] >= times)

    def stop(self) -> None:
        """Ask every program to stop (and none to restart)."""
        self._stopping.set()

    async def run(self, *watchers: Callable[[Supervisor], Coroutine[Any, Any, None]]) -> None:
        """Run every program, and each of ``watchers`` beside them, until :meth:`stop`; then
        stop every program (SIGTERM to its process group, SIGKILL after 10 s)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        keepers = [asyncio.create_task(self._keep_running(p)) for p in self.programs]
        extra = [asyncio.create_task(w(self)) for w in watchers]
        try:
            await self._stopping.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            for task in extra:
                task.cancel()
            await self._terminate_all()
            await asyncio.gather(*keepers, *extra, return_exceptions=True)

    async def _keep_running(self, program: Program) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        while not self._stopping.is_set():
            started = loop.time()
            code = await self._run_once(program)
            if self._stopping.is_set():
                return
            ran = loop.time() - started
            attempt = 1 if ran >= self.backoff.stable_after else attempt + 1
            delay = self.backoff.delay(attempt)
            async with self._restarted:
                self.restarts[program.name] += 1
                self._restarted.notify_all()
            self.say(
                program.name,
                f"{program.name} {describe_exit(code)}, restarting in {delay:g} s "
                f"(attempt {attempt})",
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _run_once(self, program: Program) -> int:
        try:
            process = await asyncio.create_subprocess_exec(
                *program.argv,
                env=program.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                # A group of its own: Ctrl-C reaches the supervisor only, which stops each
                # program's whole group (npm and the dev server it starts) in order.
                start_new_session=True,
                limit=LINE_LIMIT,
            )
        except OSError as exc:
            self.say(program.name, f"could not start {program.argv[0]}: {exc}")
            return 127
        self._processes[program.name] = process
        self.say(program.name, f"started with pid {process.pid}")
        assert process.stdout is not None  # asked for above
        while True:
            try:
                raw = await process.stdout.readline()
            except ValueError:  # a line longer than LINE_LIMIT: relay what was read
                raw = await process.stdout.read(LINE_LIMIT)
            if not raw:
                break
            self.say(program.name, raw.decode(errors="replace").rstrip("\n"))
        code = await process.wait()
        self._processes.pop(program.name, None)
        return code

    async def _terminate_all(self) -> None:
        running = dict(self._processes)
        for process in running.values():
            _signal_group(process, signal.SIGTERM)
        for name, process in running.items():
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                _signal_group(process, signal.SIGKILL)
                await process.wait()
            self.say(name, f"{name} stopped")


def _signal_group(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
