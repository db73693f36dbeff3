"""One-time codes: how they are made, kept (as a keyed hash, never in clear) and checked."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import asdict, dataclass
from typing import Literal

import orjson

#: The roles a person may sign in as with a code.
LoginRole = Literal["client", "subscriber", "admin"]
CODE_DIGITS = 6


def new_code() -> str:
    """Six random digits from the system's cryptographic source."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_mac(secret: bytes, role: str, phone_hash: str, code_id: str, code: str) -> str:
    """The keyed hash a code is kept as: bound to its role, number and issue."""
    message = f"{role}\x1f{phone_hash}\x1f{code_id}\x1f{code}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    """What is kept of a code while it is valid."""

    code_id: str
    mac: str
    locale: str
    issued_at: float

    @classmethod
    def issue(
        cls, secret: bytes, role: str, phone_hash: str, locale: str, now: float
    ) -> tuple[IssuedCode, str]:
        """A new code and its record; the clear code is returned to be sent, never kept."""
        code, code_id = new_code(), secrets.token_hex(12)
        return cls(code_id, code_mac(secret, role, phone_hash, code_id, code), locale, now), code

    def matches(self, secret: bytes, role: str, phone_hash: str, code: str) -> bool:
        """True when ``code`` is this record's code (compared in constant time)."""
        expected = code_mac(secret, role, phone_hash, self.code_id, code)
        return hmac.compare_digest(expected, self.mac)

    def to_bytes(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_bytes(cls, raw: bytes) -> IssuedCode:
        return cls(**orjson.loads(raw))


@dataclass(frozen=True)
class AttemptVerdict:
    """What the n-th attempt at a code may do."""

    may_compare: bool
    #: A wrong code on this attempt kills the code.
    last_chance: bool


def judge_attempt(attempt: int, max_attempts: int) -> AttemptVerdict:
    """Every attempt is counted before the code is compared, so that however many arrive at
    once, at most ``max_attempts`` comparisons happen per code."""
    return AttemptVerdict(may_compare=attempt <= max_attempts, last_chance=attempt >= max_attempts)


def minutes_valid(ttl_seconds: int) -> int:
    """The validity the SMS states, in whole minutes (at least one)."""
    return max(1, math.ceil(ttl_seconds / 60))
