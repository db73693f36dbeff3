"""Who may see and do what, per field (SPEC §5: anonymous, subscriber, client own data,
client another's data, admin, service)."""

from __future__ import annotations

from uuid import UUID

import strawberry

from nudges_kit.auth import Principal, Role
from nudges_kit.graphql import bad_input, context_of, forbidden

#: Roles that see every plan, tier and subscription, and the Stripe ids.
STAFF: tuple[Role, ...] = ("admin", "service")


def viewer(info: strawberry.Info) -> Principal | None:
    """The caller, or None when anonymous (public fields ignore a bad token)."""
    return context_of(info).principal


def is_staff(info: strawberry.Info) -> bool:
    """True for admins and services."""
    principal = viewer(info)
    return principal is not None and principal.has_role(*STAFF)


def require_staff_field(info: strawberry.Info) -> None:
    """Fields only admins and services read (Stripe ids, archived things)."""
    context_of(info).require(*STAFF)


def client_id_of(principal: Principal) -> UUID | None:
    """The client a token speaks for: its ``client_id`` claim, when it holds the client role."""
    if not principal.has_role("client"):
        return None
    claim = principal.claims.get("client_id")
    try:
        return UUID(str(claim)) if claim else None
    except ValueError:
        return None


def may_see_client(info: strawberry.Info, client_id: UUID) -> bool:
    """True for staff and for the client ``client_id`` itself."""
    principal = viewer(info)
    return principal is not None and (
        principal.has_role(*STAFF) or client_id_of(principal) == client_id
    )


def require_client_or_staff(info: strawberry.Info, client_id: UUID) -> Principal:
    """The caller, when they are staff or the client ``client_id`` itself."""
    principal = context_of(info).require()
    if principal.has_role(*STAFF) or client_id_of(principal) == client_id:
        return principal
    raise forbidden("only the client itself, an admin or a service may see this")


def parse_id(value: str, field: str = "id") -> UUID:
    """An ID argument as the UUID it must be."""
    try:
        return UUID(str(value))
    except ValueError:
        raise bad_input(f"{field} is not a valid id", field=field) from None
