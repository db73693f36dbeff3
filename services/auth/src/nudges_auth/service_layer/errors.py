"""Why a use case refused: the kit's errors (``nudges_kit.errors``), each with the HTTP
status and headers AuthApi's REST entrypoint answers."""

from __future__ import annotations

from nudges_kit import errors


class AuthFailure(errors.DomainError):
    """A refusal the caller can act on; ``message`` says how."""

    code = "BAD_USER_INPUT"
    status_code = 400

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}


class InvalidPhone(errors.BadInput, AuthFailure):
    status_code = 422


class RateLimited(AuthFailure):
    code = "RATE_LIMITED"
    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, {"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class CodeRejected(errors.BadInput, AuthFailure):
    """No live code, a wrong one, or one that was used up."""

    status_code = 400


class Forbidden(errors.Forbidden, AuthFailure):
    status_code = 403


class Unauthenticated(errors.Unauthenticated, AuthFailure):
    status_code = 401


class NotConfigured(errors.NotFound, AuthFailure):
    status_code = 404


class Unavailable(errors.UpstreamUnavailable, AuthFailure):
    """A system AuthApi depends on is down; trying again later may work."""

    status_code = 503

    def __init__(self, message: str) -> None:
        super().__init__(message, {"Retry-After": "5"})
