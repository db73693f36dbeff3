"""Where the supergraph comes from: GraphMonitor's ``/supergraph`` (polled with ETag), or a
file (re-read when it changes)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx

from nudges_gateway.domain.supergraph import InvalidSupergraph
from nudges_gateway.service_layer.schema_state import SchemaHolder
from nudges_kit.logging import get_logger

log = get_logger(__name__)


async def _every(interval: float, stop: asyncio.Event) -> bool:
    """Wait ``interval`` seconds; False once ``stop`` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), interval)
    return not stop.is_set()


class RegistryPoller:
    """Loads each new supergraph the registry publishes."""

    def __init__(self, registry_url: str, holder: SchemaHolder, interval: float = 5.0) -> None:
        self.url = registry_url.rstrip("/") + "/supergraph"
        self.holder = holder
        self.interval = interval
        self.etag: str | None = None

    async def poll_once(self, client: httpx.AsyncClient) -> bool:
        """Ask once; True when a new supergraph was loaded."""
        headers = {"If-None-Match": self.etag} if self.etag else {}
        try:
            response = await client.get(self.url, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("registry unreachable", url=self.url, error=repr(exc))
            return False
        if response.status_code != 200:
            if response.status_code not in (304, 404):
                log.warning("registry failed", url=self.url, status=response.status_code)
            return False
        self.etag = response.headers.get("etag")
        body = response.json()
        try:
            return self.holder.load(body["supergraph_sdl"], body.get("id"))
        except InvalidSupergraph:
            return False

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=10.0) as client:
            while not stop.is_set():
                await self.poll_once(client)
                if not await _every(self.interval, stop):
                    return


class FileWatcher:
    """Loads the supergraph file at start and again whenever it changes."""

    def __init__(self, path: str, holder: SchemaHolder, interval: float = 5.0) -> None:
        self.path = Path(path)
        self.holder = holder
        self.interval = interval
        self.mtime: float | None = None

    def load_once(self) -> bool:
        try:
            mtime = self.path.stat().st_mtime
        except OSError as exc:
            log.error("supergraph file unreadable", path=str(self.path), error=repr(exc))
            return False
        if mtime == self.mtime:
            return False
        self.mtime = mtime
        try:
            return self.holder.load(self.path.read_text())
        except InvalidSupergraph:
            return False

    async def run(self, stop: asyncio.Event) -> None:
        while await _every(self.interval, stop):
            self.load_once()
