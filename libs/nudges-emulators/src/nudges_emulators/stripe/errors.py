"""Stripe's error responses, which the ``stripe`` library turns into its own exceptions."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An error the emulator answers as Stripe would: status code and ``{"error": {...}}``."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.param = param
        self.code = code

    def as_json(self) -> dict[str, Any]:
        """The response body."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        return {"error": error}


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    """Unknown id: 404 when it is the resource asked for, 400 when a parameter names it."""
    return StripeError(
        f"No such {kind}: '{object_id}'",
        status=404 if param == "id" else 400,
        param=param,
        code="resource_missing",
    )


def parameter_missing(param: str) -> StripeError:
    """A required parameter is absent."""
    return StripeError(f"Missing required param: {param}.", param=param, code="parameter_missing")


def parameter_unknown(param: str) -> StripeError:
    """A parameter Stripe does not accept here (for example changing a price's amount), or
    one the emulator does not implement."""
    return StripeError(
        f"Received unknown parameter: {param}. (The Stripe emulator refuses every parameter "
        "it does not implement, rather than ignore it.)",
        param=param,
        code="parameter_unknown",
    )


def parameter_invalid(param: str, message: str, code: str = "parameter_invalid") -> StripeError:
    """A parameter with a value Stripe refuses."""
    return StripeError(message, param=param, code=code)
