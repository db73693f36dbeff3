"""The kit's error family: each error a use case raises for its caller has one stable code."""

from __future__ import annotations

from nudges_kit.errors import (
    BadInput,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PaymentProviderFailed,
    Unauthenticated,
    UpstreamUnavailable,
)


def test_each_error_has_its_own_stable_code() -> None:
    codes = {
        cls.__name__: cls.code
        for cls in (
            Unauthenticated,
            Forbidden,
            NotFound,
            BadInput,
            Conflict,
            PaymentProviderFailed,
            UpstreamUnavailable,
        )
    }
    # The values clients match on (SPEC §5, and PaymentApi's two of its own).
    assert codes == {
        "Unauthenticated": "UNAUTHENTICATED",
        "Forbidden": "FORBIDDEN",
        "NotFound": "NOT_FOUND",
        "BadInput": "BAD_USER_INPUT",
        "Conflict": "CONFLICT",
        "PaymentProviderFailed": "PAYMENT_PROVIDER_ERROR",
        "UpstreamUnavailable": "SERVICE_UNAVAILABLE",
    }


def test_a_subclass_keeps_the_code_of_its_kind() -> None:
    class UnknownThing(NotFound):
        """A service's own name for a missing thing."""

    error = UnknownThing("thing not found")
    assert isinstance(error, DomainError)
    assert (error.code, error.message, str(error)) == (
        "NOT_FOUND",
        "thing not found",
        "thing not found",
    )


def test_extensions_name_the_field_and_the_provider_reason() -> None:
    assert BadInput("amount must be positive", field="amount").extensions() == {"field": "amount"}
    assert Conflict("already canceled").extensions() == {}
    assert PaymentProviderFailed("the payment provider failed", "card_declined").extensions() == {
        "reason": "card_declined"
    }
    # Clients always find the key, even when the provider gave no code.
    assert PaymentProviderFailed("the payment provider failed").extensions() == {"reason": None}
