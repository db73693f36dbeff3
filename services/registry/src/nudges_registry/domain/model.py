"""What the registry keeps: registered subgraphs and published supergraph versions."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any


def sdl_hash(sdl: str) -> str:
    """The SHA-256 of an SDL, hex."""
    return hashlib.sha256(sdl.encode()).hexdigest()


@dataclass(frozen=True)
class RegisteredSubgraph:
    """A subgraph as last registered: its name, ``/graphql`` URL and SDL."""

    name: str
    url: str
    sdl: str
    updated_at: str

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "sdl_sha256": sdl_hash(self.sdl),
            "updated_at": self.updated_at,
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SupergraphVersion:
    """One published supergraph: ``id`` is the SHA-256 prefix of its SDL (also its ETag)."""

    id: str
    number: int
    created_at: str
    supergraph_sdl: str
    subgraphs: tuple[dict[str, str], ...]
    reason: str
    forced: bool = False

    @property
    def etag(self) -> str:
        return f'"{self.id}"'

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "created_at": self.created_at,
            "subgraphs": list(self.subgraphs),
            "reason": self.reason,
            "forced": self.forced,
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary(), "supergraph_sdl": self.supergraph_sdl}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SupergraphVersion:
        return cls(
            id=data["id"],
            number=int(data["number"]),
            created_at=data["created_at"],
            supergraph_sdl=data["supergraph_sdl"],
            subgraphs=tuple(data.get("subgraphs", ())),
            reason=data.get("reason", ""),
            forced=bool(data.get("forced", False)),
        )
