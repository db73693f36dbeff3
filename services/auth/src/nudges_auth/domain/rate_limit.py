"""Rate-limit windows: so many requests per window, counted from the window's first one."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """At most ``limit`` requests per ``seconds``, per subject (a phone hash, an address)."""

    name: str
    limit: int
    seconds: int

    def allows(self, count: int) -> bool:
        """True when the ``count``-th request of the window may go ahead."""
        return count <= self.limit

    def retry_after(self, started_at: float | None, now: float) -> int:
        """Whole seconds until the window ends (the full window when its start is unknown)."""
        if started_at is None:
            return self.seconds
        return self.retry_after_remaining(started_at + self.seconds - now)

    def retry_after_remaining(self, remaining: float | None) -> int:
        """Whole seconds until the window ends, from the seconds its counter has left (the
        full window when unknown)."""
        if remaining is None:
            return self.seconds
        return max(1, min(self.seconds, math.ceil(remaining)))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
