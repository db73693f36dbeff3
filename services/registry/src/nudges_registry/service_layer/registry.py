"""The registry's use cases: register a subgraph, refresh it from its URL, remove it, and
publish the supergraph they compose, refusing what fails or breaks the published graph."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import asyncpg
from prometheus_client import Counter

from nudges_kit.errors import BadInput, Conflict, Forbidden, NotFound
from nudges_kit.logging import get_logger
from nudges_registry.domain.compatibility import breaking_changes
from nudges_registry.domain.composition import CompositionError, SubgraphSource, compose
from nudges_registry.domain.model import RegisteredSubgraph, SupergraphVersion, sdl_hash
from nudges_registry.domain.subgraph_urls import SubgraphUrls
from nudges_registry.service_layer.unit_of_work import UnitOfWork, unit_of_work

log = get_logger(__name__)

COMPOSITIONS = Counter(
    "registry_compositions_total", "Compositions attempted, by outcome", ["outcome"]
)


# The changes the registry refuses, each one of the kit's errors with its stable code.
class CompositionFailed(BadInput):
    """The subgraphs do not compose."""

    def __init__(self, errors: list[CompositionError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class BreakingChange(Conflict):
    """The composed supergraph breaks the published one (pass ``force`` to publish anyway)."""

    def __init__(self, changes: list[str]) -> None:
        super().__init__("; ".join(changes))
        self.changes = changes


class UnknownSubgraph(NotFound):
    """No subgraph of that name is registered."""


class SubgraphUrlNotAllowed(Forbidden):
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
    """Subgraphs and supergraph versions in registrydb. Changes are serialised across every
    registry process on the database (the composition lock of :func:`unit_of_work`), so
    each composes on the subgraphs and supergraph the previous change left."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        fetch_sdl: Callable[[str], Awaitable[str]],
        allowed_urls: SubgraphUrls,
    ) -> None:
        self.pool = pool
        self.fetch_sdl = fetch_sdl
        self.allowed_urls = allowed_urls

    def _check_url(self, url: str) -> None:
        if not self.allowed_urls.allows(url):
            raise SubgraphUrlNotAllowed(f"{url} is not an allowed subgraph URL")

    async def subgraphs(self) -> dict[str, RegisteredSubgraph]:
        async with unit_of_work(self.pool) as uow:
            return await uow.registry.subgraphs()

    async def current(self) -> SupergraphVersion | None:
        async with unit_of_work(self.pool) as uow:
            return await uow.registry.current()

    async def versions(self) -> list[SupergraphVersion]:
        async with unit_of_work(self.pool) as uow:
            return await uow.registry.versions()

    async def version(self, version_id: str) -> SupergraphVersion | None:
        async with unit_of_work(self.pool) as uow:
            return await uow.registry.version(version_id)

    async def register(self, name: str, url: str, sdl: str, force: bool = False) -> Outcome:
        """Register (or update) subgraph ``name`` and publish the supergraph it composes to.
        Only a URL on the allow-list is taken."""
        self._check_url(url)
        async with unit_of_work(self.pool, compose=True) as uow:
            subgraphs = await uow.registry.subgraphs()
            existing = subgraphs.get(name)
            current = await uow.registry.current()
            if existing and existing.url == url and existing.sdl == sdl and current:
                return Outcome("unchanged", current)
            subgraphs[name] = RegisteredSubgraph(name, url, sdl, _now())
            verb = "updated" if existing else "registered"
            return await _publish(uow, subgraphs, current, f"{name} {verb}", force)

    async def refresh(self, name: str, url: str | None = None, force: bool = False) -> Outcome:
        """Fetch ``_service { sdl }`` from the subgraph (at ``url`` or its registered URL).
        Nothing is fetched from a URL off the allow-list."""
        existing = (await self.subgraphs()).get(name)
        target = url or (existing.url if existing else None)
        if target is None:
            raise UnknownSubgraph(f'no subgraph "{name}" is registered; give its url')
        self._check_url(target)
        sdl = await self.fetch_sdl(target)
        return await self.register(name, target, sdl, force)

    async def remove(self, name: str, force: bool = False) -> Outcome:
        """Remove subgraph ``name`` and publish the supergraph of the others."""
        async with unit_of_work(self.pool, compose=True) as uow:
            subgraphs = await uow.registry.subgraphs()
            if name not in subgraphs:
                raise UnknownSubgraph(f'no subgraph "{name}" is registered')
            del subgraphs[name]
            current = await uow.registry.current()
            return await _publish(uow, subgraphs, current, f"{name} removed", force)


async def _publish(
    uow: UnitOfWork,
    subgraphs: dict[str, RegisteredSubgraph],
    current: SupergraphVersion | None,
    reason: str,
    force: bool,
) -> Outcome:
    """Compose ``subgraphs``; publish the supergraph unless it fails or breaks ``current``.
    The subgraphs and the version are written in one transaction: both or neither."""
    composition = compose([SubgraphSource(s.name, s.url, s.sdl) for s in subgraphs.values()])
    if not composition.ok:
        COMPOSITIONS.labels("failed").inc()
        log.warning(
            "composition refused", reason=reason, errors=[e.message for e in composition.errors]
        )
        raise CompositionFailed(composition.errors)
    sdl = composition.supergraph_sdl
    assert sdl is not None
    if current is not None and current.supergraph_sdl == sdl:
        await uow.registry.save_subgraphs(subgraphs)
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
    await uow.registry.save_subgraphs(subgraphs)
    await uow.registry.publish(version)
    COMPOSITIONS.labels("published").inc()
    log.info("supergraph published", version=version.id, number=version.number, reason=reason)
    return Outcome("published", version, changes)
