"""Who may see what, per field: a client its own data, admins and services everyone's
(SPEC §5). Another client's announcement is answered as a missing one."""

from __future__ import annotations

import strawberry

from nudges_kit.auth import Principal
from nudges_kit.errors import Forbidden, NotFound
from nudges_kit.graphql import context_of
from nudges_user.domain import model
from nudges_user.entrypoints.graphql import loaders
from nudges_user.entrypoints.graphql.context import Info, parse_id


def owner_or(principal: Principal | None, client_id: str, *roles: str) -> bool:
    """True for the client ``client_id`` itself and for callers holding one of ``roles``."""
    if principal is None:
        return False
    return principal.user_id == client_id or principal.has_role(*roles)  # type: ignore[arg-type]


async def visible_announcement(info: Info, id: strawberry.ID) -> model.Announcement:
    """The announcement, when the caller is its client, an admin or a service. Anyone else
    hears NOT_FOUND whether it exists or not, so that ids of other clients' announcements
    cannot be probed."""
    principal = context_of(info).require()
    found = await loaders.announcements(info).load(str(parse_id(id, "id")))
    if found is None or not owner_or(principal, found.client_id, "admin", "service"):
        raise NotFound("announcement not found")
    return found


def require_owner(info: Info, client_id: str) -> Principal:
    """The caller, when they are the client ``client_id``, an admin or a service."""
    principal = context_of(info).require()
    if not owner_or(principal, client_id, "admin", "service"):
        raise Forbidden("only this client or an admin may see this")
    return principal
