"""Domain refusals as GraphQL errors with stable ``extensions.code`` values."""

from __future__ import annotations

from graphql import GraphQLError

from nudges_kit.graphql import bad_input, conflict, forbidden, not_found
from nudges_product.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, ProductError


def as_graphql_error(error: ProductError) -> GraphQLError:
    """The kit's error for a domain refusal (BAD_USER_INPUT names the field)."""
    if isinstance(error, InvalidInput):
        return bad_input(error.message, field=error.field)
    if isinstance(error, NotFound):
        return not_found(error.what)
    if isinstance(error, Forbidden):
        return forbidden(error.message)
    if isinstance(error, Conflict):
        return conflict(error.message)
    return conflict(error.message)


def give_code(error: GraphQLError) -> bool:
    """Give a domain refusal its code; True when ``error`` has one (the caller caused it,
    as opposed to a failure worth logging)."""
    if isinstance(error.original_error, ProductError):
        error.extensions = as_graphql_error(error.original_error).extensions
    return bool(error.extensions and "code" in error.extensions)
