"""PaymentApi's refusals reach GraphQL callers with the kit's stable codes."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from nudges_kit.errors import (
    BadInput,
    Conflict,
    DomainError,
    NotFound,
    PaymentProviderFailed,
    UpstreamUnavailable,
)
from nudges_payment.entrypoints.graphql.context import domain_errors


@pytest.mark.parametrize(
    ("refusal", "extensions"),
    [
        (
            BadInput("this discount code is not valid", field="discountCode"),
            {"code": "BAD_USER_INPUT", "field": "discountCode"},
        ),
        (NotFound("checkout session not found"), {"code": "NOT_FOUND"}),
        (Conflict("your billing account is still being set up"), {"code": "CONFLICT"}),
        (
            PaymentProviderFailed("the payment provider failed", "resource_missing"),
            {"code": "PAYMENT_PROVIDER_ERROR", "reason": "resource_missing"},
        ),
        (
            UpstreamUnavailable("the Client lookup is not available"),
            {"code": "SERVICE_UNAVAILABLE"},
        ),
    ],
)
def test_a_refusal_becomes_a_graphql_error_with_its_code(
    refusal: DomainError, extensions: dict[str, object]
) -> None:
    with pytest.raises(GraphQLError) as caught, domain_errors():
        raise refusal
    assert caught.value.message == refusal.message
    assert caught.value.extensions == extensions


def test_anything_else_is_not_a_refusal() -> None:
    with pytest.raises(RuntimeError), domain_errors():
        raise RuntimeError("a bug")
