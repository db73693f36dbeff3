"""The registry store: JSON files under one folder, each written atomically (a temporary
file, fsync, rename), so that a crash never leaves a half-written version behind.

``subgraphs.json`` holds the registered subgraphs; ``versions/NNNNNN-<id>.json`` one
published supergraph each. The newest version is the current one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

from nudges_registry.domain.model import RegisteredSubgraph, SupergraphVersion


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class FileStore:
    """Subgraphs and supergraph versions in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.versions_dir = root / "versions"
        self.versions_dir.mkdir(parents=True, exist_ok=True)

    def check(self) -> None:
        """Raise when the folder cannot be written."""
        write_atomically(self.root / ".ready", b"ok")

    def subgraphs(self) -> dict[str, RegisteredSubgraph]:
        path = self.root / "subgraphs.json"
        if not path.exists():
            return {}
        raw: dict[str, dict[str, Any]] = orjson.loads(path.read_bytes())
        return {name: RegisteredSubgraph(**value) for name, value in raw.items()}

    def save_subgraphs(self, subgraphs: dict[str, RegisteredSubgraph]) -> None:
        data = {name: s.as_dict() for name, s in sorted(subgraphs.items())}
        write_atomically(
            self.root / "subgraphs.json", orjson.dumps(data, option=orjson.OPT_INDENT_2)
        )

    def _version_files(self) -> list[Path]:
        return sorted(self.versions_dir.glob("*.json"))

    def versions(self) -> list[SupergraphVersion]:
        """Every published version, oldest first."""
        return [
            SupergraphVersion.from_dict(orjson.loads(p.read_bytes())) for p in self._version_files()
        ]

    def latest(self) -> SupergraphVersion | None:
        files = self._version_files()
        return SupergraphVersion.from_dict(orjson.loads(files[-1].read_bytes())) if files else None

    def version(self, version_id: str) -> SupergraphVersion | None:
        for path in self.versions_dir.glob(f"*-{version_id}.json"):
            return SupergraphVersion.from_dict(orjson.loads(path.read_bytes()))
        return None

    def add_version(self, version: SupergraphVersion) -> None:
        path = self.versions_dir / f"{version.number:06d}-{version.id}.json"
        write_atomically(path, orjson.dumps(version.as_dict(), option=orjson.OPT_INDENT_2))
