"""Errors a use case raises for the caller to see, each with a stable code."""

from __future__ import annotations


class DomainError(Exception):
    """An error meant for the caller; ``code`` is stable (SPEC §5)."""

    code = "INTERNAL"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def extensions(self) -> dict[str, object]:
        """What the caller sees beside ``code`` and the message (the field, when one is wrong)."""
        return {"field": self.field} if self.field else {}


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class BadInput(DomainError):
    code = "BAD_USER_INPUT"


class Conflict(DomainError):
    code = "CONFLICT"


class PaymentProviderFailed(DomainError):
    """The payment provider refused or did not answer; ``reason`` (the provider's error code)
    is safe to show."""

    code = "PAYMENT_PROVIDER_ERROR"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason

    def extensions(self) -> dict[str, object]:
        return {**super().extensions(), "reason": self.reason}


class UpstreamUnavailable(DomainError):
    """A service or provider this use case needs did not answer usefully; trying again later
    may succeed. (Not :class:`nudges_kit.consumer.DependencyUnavailable`, which tells the
    consumer loop to wait without spending attempts.)"""

    code = "SERVICE_UNAVAILABLE"
