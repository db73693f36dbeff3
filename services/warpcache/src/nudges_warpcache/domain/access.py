"""Who may use which keys: each caller service authenticates with a token of its own and
reaches only the key prefixes granted to it, reading or also writing.

Pure logic, no I/O: the gRPC entrypoint asks :meth:`AccessPolicy.caller_of` for the token a
call presents and :meth:`Caller.may_read` / :meth:`Caller.may_write` for its keys.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Grants:
    """Key prefixes a caller may read and write (``read_write``) or only read (``read``)."""

    read_write: tuple[str, ...] = ()
    read: tuple[str, ...] = ()


#: What each caller service keeps in WarpCache (the keys are documented where they are used:
#: AuthApi's ``adapters/cache_stores.py``, ``nudges_kit.sessions``, Webhooks' ``adapters/``).
#: The gateway only reads sessions and the revoked access tokens AuthApi writes.
DEFAULT_GRANTS: Mapping[str, Grants] = {
    "auth": Grants(
        read_write=(
            "otp:",
            "otp-attempts:",
            "rl:",
            "session:",
            "session-family:",
            "refresh:",
            "refresh-family:",
            "refresh-used:",
            "refresh-revoked:",
            "revoked:",
            "oidc:",
            "auth:",
        )
    ),
    "gateway": Grants(read=("session:", "revoked:")),
    "webhooks": Grants(read_write=("dialogue:", "stripe-event:", "webhooks:")),
}


@dataclass(frozen=True)
class Caller:
    """An authenticated caller service and the prefixes it may reach."""

    name: str
    writable: tuple[str, ...]
    #: Prefixes it may read: its ``read`` grants and everything it may write.
    readable: tuple[str, ...]

    def may_read(self, keys: Iterable[str]) -> bool:
        """True when every key lies under a prefix this caller may read."""
        readable = self.readable
        return all(key.startswith(readable) for key in keys)

    def may_write(self, keys: Iterable[str]) -> bool:
        """True when every key lies under a prefix this caller may write."""
        writable = self.writable
        return all(key.startswith(writable) for key in keys)


class AccessPolicy:
    """The callers WarpCache accepts, each found by its token."""

    def __init__(self, callers: Mapping[str, tuple[str, Grants]]) -> None:
        """``callers``: name -> (token, grants). Tokens must be distinct and non-empty."""
        tokens = [token for token, _ in callers.values()]
        if any(not token for token in tokens):
            raise ValueError("every WarpCache caller needs a token")
        if len(set(tokens)) != len(tokens):
            raise ValueError("WarpCache callers need distinct tokens")
        self._callers: tuple[tuple[bytes, Caller], ...] = tuple(
            (
                token.encode(),
                Caller(name, grants.read_write, (*grants.read_write, *grants.read)),
            )
            for name, (token, grants) in callers.items()
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the accepted callers."""
        return tuple(caller.name for _, caller in self._callers)

    def caller_of(self, token: str) -> Caller | None:
        """The caller whose token is ``token``, or None.

        Every caller's token is compared, each in constant time, so the time taken says
        nothing about how much of a token was right.
        """
        presented = token.encode()
        found: Caller | None = None
        for expected, caller in self._callers:
            if hmac.compare_digest(presented, expected):
                found = caller
        return found
