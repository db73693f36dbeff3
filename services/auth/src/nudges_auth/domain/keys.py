"""Which signing key signs, and which keys are published, at a given time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class Scheduled(Protocol):
    @property
    def not_before(self) -> float: ...


K = TypeVar("K", bound=Scheduled)


@dataclass(frozen=True)
class KeySchedule(Generic[K]):
    """The key that signs now, the one it replaced, and keys that start later."""

    current: K
    previous: K | None
    upcoming: tuple[K, ...]

    @property
    def published(self) -> list[K]:
        """What the JWKS lists: upcoming keys (so verifiers know them before they sign), the
        current key, and the previous one (tokens it signed are still valid)."""
        return [*self.upcoming, self.current, *([self.previous] if self.previous else [])]


class NoSigningKey(LookupError):
    """No key is active yet."""


def schedule(keys: Sequence[K], now: float) -> KeySchedule[K]:
    """The schedule of ``keys`` at ``now``: the newest active key signs."""
    ordered = sorted(keys, key=lambda k: k.not_before)
    active = [k for k in ordered if k.not_before <= now]
    if not active:
        raise NoSigningKey("no signing key is active yet")
    upcoming = tuple(k for k in ordered if k.not_before > now)
    return KeySchedule(active[-1], active[-2] if len(active) > 1 else None, upcoming)


def rotation_due(current: Scheduled, now: float, rotation_seconds: float) -> bool:
    """True when the current key has signed for a full rotation period."""
    return now - current.not_before >= rotation_seconds
