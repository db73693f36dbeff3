"""The simulated network: the sending rate, numbers whose messages fail, and forced errors
or delays for the next sends, which the reliability tests of Nudges use."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, Field

from nudges_emulators.twilio.errors import MESSAGES

#: Twilio's test numbers ("magic" To numbers) and the errors they answer with.
MAGIC_TO_NUMBERS = {
    "+15005550001": 21211,  # invalid number
    "+15005550002": 21612,  # cannot route
    "+15005550003": 21408,  # no international permission
    "+15005550004": 21610,  # blocked (unsubscribed)
    "+15005550009": 21614,  # not a mobile number
}
#: The error codes of messages that end ``failed`` or ``undelivered`` by default.
DEFAULT_DELIVERY_ERRORS = {"failed": 30008, "undelivered": 30003}


class TokenBucket:
    """At most ``rate`` takes per second on average, bursts up to ``rate``; 0 is unlimited."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._tokens = max(rate, 1.0)
        self._at = time.monotonic()

    def take(self) -> bool:
        """Take a token if there is one."""
        if self.rate <= 0:
            return True
        now = time.monotonic()
        capacity = max(self.rate, 1.0)
        self._tokens = min(capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class NumberFailure(BaseModel):
    """How messages to one number end."""

    status: Literal["failed", "undelivered"]
    error_code: int | None = None

    @property
    def code(self) -> int:
        """The error code the message ends with."""
        return self.error_code or DEFAULT_DELIVERY_ERRORS[self.status]

    @property
    def text(self) -> str:
        """The error message the message ends with."""
        return MESSAGES.get(self.code, "Error")


class ForcedErrors(BaseModel):
    """The next ``count`` sends answer ``status`` (429, 500, 503...). With ``after_create``
    the message is accepted anyway, which is an in-doubt send the caller must reconcile.
    With ``to``, only sends to that number count, so other senders sharing the emulator
    are not answered with it."""

    status: int = Field(ge=400, le=599)
    count: int = Field(default=1, ge=0)
    after_create: bool = False
    to: str | None = None


class ForcedDelays(BaseModel):
    """The next ``count`` sends are accepted, then answered only after ``seconds``: what a
    client timing out sees. With ``to``, only sends to that number count."""

    seconds: float = Field(ge=0)
    count: int = Field(default=1, ge=0)
    to: str | None = None


class Failures(BaseModel):
    """``POST /_emulator/failures``: numbers are added to those already failing; ``errors``
    and ``delays`` replace the pending ones; ``clear`` forgets everything first."""

    numbers: dict[str, Literal["failed", "undelivered"] | NumberFailure] = {}
    errors: ForcedErrors | None = None
    delays: ForcedDelays | None = None
    clear: bool = False


class FailurePlan:
    """What is configured to go wrong, consumed as sends happen."""

    def __init__(self) -> None:
        self.numbers: dict[str, NumberFailure] = {}
        self.errors: ForcedErrors | None = None
        self.delays: ForcedDelays | None = None

    def apply(self, change: Failures) -> None:
        """Take in a ``POST /_emulator/failures``."""
        if change.clear:
            self.clear()
        for number, failure in change.numbers.items():
            self.numbers[number] = (
                failure if isinstance(failure, NumberFailure) else NumberFailure(status=failure)
            )
        if change.errors is not None:
            self.errors = change.errors
        if change.delays is not None:
            self.delays = change.delays

    def clear(self) -> None:
        """Nothing fails any more."""
        self.numbers.clear()
        self.errors = None
        self.delays = None

    def next_error(self, to: str | None) -> ForcedErrors | None:
        """The forced error of a send to ``to``, if one is due (counts it)."""
        if self.errors is None or self.errors.count <= 0:
            return None
        if self.errors.to is not None and self.errors.to != to:
            return None
        self.errors.count -= 1
        return self.errors

    def next_delay(self, to: str | None) -> float:
        """The forced delay in seconds of a send to ``to``, 0 when none is due (counts it)."""
        if self.delays is None or self.delays.count <= 0:
            return 0.0
        if self.delays.to is not None and self.delays.to != to:
            return 0.0
        self.delays.count -= 1
        return self.delays.seconds

    def as_json(self) -> dict[str, object]:
        """What is configured now."""
        return {
            "numbers": {n: f.model_dump() for n, f in self.numbers.items()},
            "errors": self.errors.model_dump() if self.errors else None,
            "delays": self.delays.model_dump() if self.delays else None,
        }
