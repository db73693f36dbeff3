"""What resolvers share: the wired dependencies, the caller, and the translation of domain
errors into GraphQL errors with stable codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeAlias
from uuid import UUID

import strawberry
from graphql import GraphQLError

from nudges_kit.auth import Principal
from nudges_kit.errors import DomainError
from nudges_kit.graphql import (
    SubgraphContext,
    bad_input,
    bearer_token,
    context_of,
    error,
    forbidden,
)
from nudges_payment.bootstrap import Dependencies
from nudges_payment.domain.access import client_id_of, may_read_client_payments

Info: TypeAlias = strawberry.Info[Any, Any]

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


def context(info: Info) -> SubgraphContext:
    """The request's context."""
    return context_of(info)


def dependencies(info: Info) -> Dependencies:
    """The adapters wired at start-up (``app.state.dependencies``)."""
    connection = context(info).request
    assert connection is not None
    return connection.app.state.dependencies  # type: ignore[no-any-return]


def caller_token(info: Info) -> str | None:
    """The caller's bearer token, forwarded where PaymentApi asks on their behalf."""
    connection = context(info).request
    return bearer_token(connection.headers) if connection is not None else None


def require_client(info: Info) -> tuple[Principal, UUID]:
    """The caller acting as a client, and which client; FORBIDDEN for anyone else."""
    principal = context(info).require("client")
    client_id = client_id_of(principal)
    if client_id is None:
        raise forbidden("the token does not name a client")
    return principal, client_id


def require_reader_of(info: Info, client_id: UUID) -> Principal:
    """The caller, when they may read ``client_id``'s payments (admin, or that client)."""
    principal = context(info).require()
    if not may_read_client_payments(principal, client_id):
        raise forbidden("only the client and admins may see these payments")
    return principal


def may_read(info: Info, client_id: UUID) -> bool:
    """Whether the caller, who must be signed in, may read ``client_id``'s payments."""
    return may_read_client_payments(context(info).require(), client_id)


def require_staff(info: Info) -> Principal:
    """The caller, when an admin or a service: Stripe ids are for staff only."""
    return context(info).require("admin", "service")


def parse_uuid(value: str, field: str) -> UUID:
    """``value`` as a UUID, or BAD_USER_INPUT naming ``field``."""
    try:
        return UUID(str(value))
    except ValueError:
        raise bad_input(f"{field} is not a valid id", field=field) from None


@contextmanager
def domain_errors() -> Iterator[None]:
    """Raise the domain's refusals as GraphQL errors with their stable ``extensions.code``
    (``PAYMENT_PROVIDER_ERROR`` carries the provider's ``reason``)."""
    try:
        yield
    except DomainError as exc:
        raise error(exc.code, exc.message, **exc.extensions()) from None


def is_unexpected(err: GraphQLError) -> bool:
    """True for errors no resolver meant to show (bugs, lost connections): masked."""
    original = err.original_error
    return original is not None and not isinstance(original, GraphQLError)
