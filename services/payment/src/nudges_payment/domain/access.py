"""Who may see and do what with payment data: decisions on the caller's token, no I/O."""

from __future__ import annotations

from uuid import UUID

from nudges_kit.auth import Principal


def client_id_of(principal: Principal) -> UUID | None:
    """The client a caller with the ``client`` role acts as: a client's id is its user's id
    (as UserApi assigns it), so the token names the client."""
    if not principal.has_role("client"):
        return None
    try:
        return UUID(principal.user_id)
    except ValueError:
        return None


def may_read_client_payments(principal: Principal, client_id: UUID) -> bool:
    """Admins read every client's payments; a client reads only their own."""
    return principal.has_role("admin") or client_id_of(principal) == client_id
