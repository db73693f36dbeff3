"""The registry's use cases: register a subgraph, refresh it from its URL, remove it, and
publish the supergraph they compose, refusing what fails or breaks the published graph."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from prometheus_client import Counter

from nudges_kit.logging import get_logger
from nudges_registry.adapters.store import FileStore
from nudges_registry.domain.compatibility import breaking_changes
from nudges_registry.domain.composition import CompositionError, SubgraphSource, compose
from nudges_registry.domain.model import RegisteredSubgraph, SupergraphVersion, sdl_hash
from nudges_registry.domain.subgraph_urls import SubgraphUrls

log = get_logger(__name__)

COMPOSITIONS = Counter(
    "registry_compositions_total", "Compositions attempted, by outcome", ["outcome"]
)


class RegistryRefusal(Exception):
    """A change the registry refuses."""


class CompositionFailed(RegistryRefusal):
    """The subgraphs do not compose."""

    def __init__(self, errors: list[CompositionError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class BreakingChange(RegistryRefusal):
    """The composed supergraph breaks the published one (pass ``force`` to publish anyway)."""

    def __init__(self, changes: list[str]) -> None:
        super().__init__("; ".join(changes))
        self.changes = changes


class UnknownSubgraph(RegistryRefusal):
    """No subgraph of that name is registered."""


class SubgraphUrlNotAllowed(RegistryRefusal):
    """The subgraph URL is not on the allow-list (``REGISTRY_ALLOWED_SUBGRAPH_URLS``)."""


@dataclass
class Outcome:
    """What a change did: published a new version, or changed nothing."""

    status: Literal["published", "unchanged"]
    version: SupergraphVersion | None
    breaking_changes: list[str] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Registry:
    """Subgraphs and supergraph versions over a store; changes are serialised."""

    def __init__(
        self,
        store: FileStore,
        fetch_sdl: Callable[[str], Awaitable[str]],
        allowed_urls: SubgraphUrls,
    ) -> None:
        self.store = store
        self.fetch_sdl = fetch_sdl
        self.allowed_urls = allowed_urls
        self._lock = asyncio.Lock()

    def _check_url(self, url: str) -> None:
        if not self.allowed_urls.allows(url):
            raise SubgraphUrlNotAllowed(f"{url} is not an allowed subgraph URL")

    def subgraphs(self) -> dict[str, RegisteredSubgraph]:
        return self.store.subgraphs()

    def current(self) -> SupergraphVersion | None:
        return self.store.latest()

    def versions(self) -> list[SupergraphVersion]:
        return list(reversed(self.store.versions()))

    def version(self, version_id: str) -> SupergraphVersion | None:
        return self.store.version(version_id)

    async def register(self, name: str, url: str, sdl: str, force: bool = False) -> Outcome:
        """Register (or update) subgraph ``name`` and publish the supergraph it composes to.
        Only a URL on the allow-list is taken."""
        self._check_url(url)
        async with self._lock:
            subgraphs = self.store.subgraphs()
            existing = subgraphs.get(name)
            current = self.store.latest()
            if existing and existing.url == url and existing.sdl == sdl and current:
                return Outcome("unchanged", current)
            subgraphs[name] = RegisteredSubgraph(name, url, sdl, _now())
            verb = "updated" if existing else "registered"
            return self._publish(subgraphs, f"{name} {verb}", force)

    async def refresh(self, name: str, url: str | None = None, force: bool = False) -> Outcome:
        """Fetch ``_service { sdl }`` from the subgraph (at ``url`` or its registered URL).
        Nothing is fetched from a URL off the allow-list."""
        existing = self.store.subgraphs().get(name)
        target = url or (existing.url if existing else None)
        if target is None:
            raise UnknownSubgraph(f'no subgraph "{name}" is registered; give its url')
        self._check_url(target)
        sdl = await self.fetch_sdl(target)
        return await self.register(name, target, sdl, force)

    async def remove(self, name: str, force: bool = False) -> Outcome:
        """Remove subgraph ``name`` and publish the supergraph of the others."""
        async with self._lock:
            subgraphs = self.store.subgraphs()
            if name not in subgraphs:
                raise UnknownSubgraph(f'no subgraph "{name}" is registered')
            del subgraphs[name]
            return self._publish(subgraphs, f"{name} removed", force)

    def _publish(
        self, subgraphs: dict[str, RegisteredSubgraph], reason: str, force: bool
    ) -> Outcome:
        composition = compose([SubgraphSource(s.name, s.url, s.sdl) for s in subgraphs.values()])
        if not composition.ok:
            COMPOSITIONS.labels("failed").inc()
            log.warning(
                "composition refused", reason=reason, errors=[e.message for e in composition.errors]
            )
            raise CompositionFailed(composition.errors)
        sdl = composition.supergraph_sdl
        assert sdl is not None
        current = self.store.latest()
        if current is not None and current.supergraph_sdl == sdl:
            self.store.save_subgraphs(subgraphs)
            COMPOSITIONS.labels("unchanged").inc()
            return Outcome("unchanged", current)
        changes = breaking_changes(current.supergraph_sdl, sdl) if current else []
        if changes and not force:
            COMPOSITIONS.labels("breaking").inc()
            log.warning("breaking composition refused", reason=reason, changes=changes)
            raise BreakingChange(changes)
        version = SupergraphVersion(
            id=sdl_hash(sdl)[:16],
            number=(current.number + 1) if current else 1,
            created_at=_now(),
            supergraph_sdl=sdl,
            subgraphs=tuple(
                {"name": s.name, "url": s.url, "sdl_sha256": sdl_hash(s.sdl)}
                for s in sorted(subgraphs.values(), key=lambda s: s.name)
            ),
            reason=reason,
            forced=bool(changes),
        )
        # The version first: a crash between the two writes leaves the subgraph list behind the
        # published graph, which the next registration of that subgraph repairs.
        self.store.add_version(version)
        self.store.save_subgraphs(subgraphs)
        COMPOSITIONS.labels("published").inc()
        log.info("supergraph published", version=version.id, number=version.number, reason=reason)
        return Outcome("published", version, changes)
