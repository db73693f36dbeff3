"""Forced faults of the ``/v1`` API for the reliability tests of Nudges: the next calls answer
an error Stripe can answer (429 rate limit, 500 and the like), or are carried out and then
answered only after a delay, which is what a client that times out sees."""

from __future__ import annotations

from pydantic import BaseModel, Field

from nudges_emulators.stripe.errors import StripeError


class ForcedErrors(BaseModel):
    """The next ``count`` API calls answer ``status`` and change nothing."""

    status: int = Field(ge=400, le=599)
    count: int = Field(default=1, ge=0)


class ForcedDelays(BaseModel):
    """The next ``count`` API calls are carried out, then answered after ``seconds``."""

    seconds: float = Field(ge=0, le=600)
    count: int = Field(default=1, ge=0)


class Faults(BaseModel):
    """``POST /_emulator/faults``: ``errors`` and ``delays`` replace the pending ones;
    ``clear`` forgets everything first."""

    errors: ForcedErrors | None = None
    delays: ForcedDelays | None = None
    clear: bool = False


def error_for(status: int) -> StripeError:
    """The error Stripe answers with ``status``, as the ``stripe`` library expects it
    (429 becomes ``RateLimitError``, 5xx ``APIError``)."""
    if status == 429:
        return StripeError(
            "Too many requests hit the API too quickly. We recommend an exponential backoff "
            "of your requests.",
            status=429,
            code="rate_limit",
        )
    if status >= 500:
        return StripeError(
            "An unknown error occurred while processing your request (emulated fault).",
            status=status,
            type="api_error",
        )
    return StripeError(f"Emulated fault: HTTP {status}.", status=status)


class FaultPlan:
    """What is configured to go wrong, consumed call by call."""

    def __init__(self) -> None:
        self.errors: ForcedErrors | None = None
        self.delays: ForcedDelays | None = None

    def apply(self, change: Faults) -> None:
        """Take in a ``POST /_emulator/faults``."""
        if change.clear:
            self.clear()
        if change.errors is not None:
            self.errors = change.errors
        if change.delays is not None:
            self.delays = change.delays

    def clear(self) -> None:
        """Nothing fails any more."""
        self.errors = None
        self.delays = None

    def next_error(self) -> StripeError | None:
        """The forced error of this call, if one is due (counts it)."""
        if self.errors is None or self.errors.count <= 0:
            return None
        self.errors.count -= 1
        return error_for(self.errors.status)

    def next_delay(self) -> float:
        """The forced delay of this call in seconds, 0 when none is due (counts it)."""
        if self.delays is None or self.delays.count <= 0:
            return 0.0
        self.delays.count -= 1
        return self.delays.seconds

    def as_json(self) -> dict[str, object]:
        """What is configured now."""
        return {
            "errors": self.errors.model_dump() if self.errors else None,
            "delays": self.delays.model_dump() if self.delays else None,
        }
