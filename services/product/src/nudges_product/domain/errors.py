"""What a use case refuses, in the product's words; entrypoints turn these into error codes."""

from __future__ import annotations


class ProductError(Exception):
    """A request ProductApi refuses; ``message`` is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ProductError):
    """A value the caller sent breaks a rule; ``field`` names it as the caller spelled it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(ProductError):
    """The thing asked for does not exist (or the caller may not know that it does)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class Conflict(ProductError):
    """The request is valid but the current state does not allow it."""


class Forbidden(ProductError):
    """The caller is signed in but may not do this to this thing."""
