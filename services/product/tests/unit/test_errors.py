"""ProductApi's refusals reach GraphQL callers with the kit's stable codes."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from nudges_kit.errors import BadInput, Conflict, DomainError, Forbidden, NotFound
from nudges_product.domain.subscriptions import UnknownSubscription
from nudges_product.entrypoints.graphql.errors import give_code


@pytest.mark.parametrize(
    ("refusal", "extensions"),
    [
        (
            BadInput("amount must be at least 0", field="amount"),
            {"code": "BAD_USER_INPUT", "field": "amount"},
        ),
        (NotFound("plan not found"), {"code": "NOT_FOUND"}),
        (Conflict("an archived plan cannot change"), {"code": "CONFLICT"}),
        (Forbidden("only admins may do this"), {"code": "FORBIDDEN"}),
        (UnknownSubscription("subscription sub_1 is not stored"), {"code": "NOT_FOUND"}),
    ],
)
def test_a_refusal_gets_its_code(refusal: DomainError, extensions: dict[str, object]) -> None:
    error = GraphQLError(refusal.message, original_error=refusal)
    assert give_code(error)
    assert error.extensions == extensions


def test_an_unexpected_error_gets_no_code() -> None:
    error = GraphQLError("boom", original_error=RuntimeError("boom"))
    assert not give_code(error)
