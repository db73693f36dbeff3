"""registrydb: registered subgraphs, every published supergraph version, and the current one.

All SQL of the registry lives here; each method runs on the connection (and so inside the
transaction) of the unit of work that owns the repository.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from nudges_registry.domain.model import RegisteredSubgraph, SupergraphVersion

_VERSION_COLUMNS = "number, id, created_at, supergraph_sdl, subgraphs, reason, forced"


def _version(row: asyncpg.Record) -> SupergraphVersion:
    return SupergraphVersion(
        id=row["id"],
        number=row["number"],
        created_at=row["created_at"].isoformat(),
        supergraph_sdl=row["supergraph_sdl"],
        subgraphs=tuple(row["subgraphs"]),
        reason=row["reason"],
        forced=row["forced"],
    )


class RegistryRepository:
    """Subgraphs and supergraph versions on one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def subgraphs(self) -> dict[str, RegisteredSubgraph]:
        """Every registered subgraph, by name."""
        rows = await self._conn.fetch(
            "SELECT name, url, sdl, updated_at FROM subgraphs ORDER BY name"
        )
        return {
            r["name"]: RegisteredSubgraph(
                r["name"], r["url"], r["sdl"], r["updated_at"].isoformat()
            )
            for r in rows
        }

    async def save_subgraphs(self, subgraphs: dict[str, RegisteredSubgraph]) -> None:
        """Make the registered subgraphs exactly ``subgraphs``."""
        await self._conn.execute(
            "DELETE FROM subgraphs WHERE NOT (name = ANY($1::text[]))", list(subgraphs)
        )
        await self._conn.executemany(
            """
            INSERT INTO subgraphs (name, url, sdl, updated_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (name) DO UPDATE
               SET url = excluded.url, sdl = excluded.sdl, updated_at = excluded.updated_at
             WHERE (subgraphs.url, subgraphs.sdl) IS DISTINCT FROM (excluded.url, excluded.sdl)
            """,
            [
                (s.name, s.url, s.sdl, datetime.fromisoformat(s.updated_at))
                for s in subgraphs.values()
            ],
        )

    async def current(self) -> SupergraphVersion | None:
        """The published supergraph the gateway serves."""
        row = await self._conn.fetchrow(
            f"""
            SELECT {_VERSION_COLUMNS} FROM supergraph_versions
             WHERE number = (SELECT version_number FROM current_supergraph)
            """
        )
        return _version(row) if row else None

    async def versions(self) -> list[SupergraphVersion]:
        """Every published version, newest first."""
        rows = await self._conn.fetch(
            f"SELECT {_VERSION_COLUMNS} FROM supergraph_versions ORDER BY number DESC"
        )
        return [_version(r) for r in rows]

    async def version(self, version_id: str) -> SupergraphVersion | None:
        """The newest version published under ``version_id``."""
        row = await self._conn.fetchrow(
            f"""
            SELECT {_VERSION_COLUMNS} FROM supergraph_versions
             WHERE id = $1 ORDER BY number DESC LIMIT 1
            """,
            version_id,
        )
        return _version(row) if row else None

    async def publish(self, version: SupergraphVersion) -> None:
        """Add ``version`` and make it the current supergraph."""
        await self._conn.execute(
            f"""
            INSERT INTO supergraph_versions ({_VERSION_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            version.number,
            version.id,
            datetime.fromisoformat(version.created_at),
            version.supergraph_sdl,
            list(version.subgraphs),
            version.reason,
            version.forced,
        )
        await self._conn.execute(
            """
            INSERT INTO current_supergraph (singleton, version_number, updated_at)
            VALUES (true, $1, now())
            ON CONFLICT (singleton) DO UPDATE
               SET version_number = excluded.version_number, updated_at = now()
            """,
            version.number,
        )
