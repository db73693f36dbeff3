"""Why a use case refused, each with the HTTP status the entrypoint answers."""

from __future__ import annotations


class AuthFailure(Exception):
    """A refusal the caller can act on; ``message`` says how."""

    status_code = 400

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class InvalidPhone(AuthFailure):
    status_code = 422


class RateLimited(AuthFailure):
    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, {"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class CodeRejected(AuthFailure):
    """No live code, a wrong one, or one that was used up."""

    status_code = 400


class Forbidden(AuthFailure):
    status_code = 403


class Unauthenticated(AuthFailure):
    status_code = 401


class NotConfigured(AuthFailure):
    status_code = 404


class Unavailable(AuthFailure):
    """A system AuthApi depends on is down; trying again later may work."""

    status_code = 503

    def __init__(self, message: str) -> None:
        super().__init__(message, {"Retry-After": "5"})
