"""Domain refusals as GraphQL errors with stable ``extensions.code`` values."""

from __future__ import annotations

from graphql import GraphQLError

from nudges_kit.errors import DomainError


def give_code(error: GraphQLError) -> bool:
    """Give a domain refusal its code (and the field it names); True when ``error`` has a code
    (the caller caused it, as opposed to a failure worth logging)."""
    original = error.original_error
    if isinstance(original, DomainError):
        error.extensions = {"code": original.code, **original.extensions()}
    return bool(error.extensions and "code" in error.extensions)
