"""The request's context as the resolvers use it: the database pool, the phone vault, the
service layer and the composer, and ids and cursors parsed from arguments."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry

from nudges_kit.errors import BadInput
from nudges_kit.graphql import SubgraphContext, context_of, decode_cursor
from nudges_kit.phone import PhoneVault
from nudges_user.service_layer.composer import Composer
from nudges_user.service_layer.services import UserService

Info = strawberry.Info[SubgraphContext, None]


def service_of(info: Info) -> UserService:
    """The use cases, over the request's pool."""
    return UserService(pool_of(info))


def pool_of(info: Info) -> Any:
    """The service's pool, as the request's context carries it."""
    pool = context_of(info).pool
    assert pool is not None, "UserApi runs with its database"
    return pool


def vault_of(info: Info) -> PhoneVault:
    """The vault that decrypts numbers for masking."""
    request = context_of(info).request
    assert request is not None
    return request.app.state.phone_vault  # type: ignore[no-any-return]


def composer_of(info: Info) -> Composer:
    """The composer of the running app."""
    request = context_of(info).request
    assert request is not None
    return request.app.state.dependencies.composer  # type: ignore[no-any-return]


def parse_id(value: str, field: str) -> UUID:
    """An ID argument as the UUID it must be (BAD_USER_INPUT naming ``field`` otherwise)."""
    try:
        return UUID(str(value))
    except ValueError:
        raise BadInput(f"{field} is not a valid id", field=field) from None


def position(cursor: str | None) -> tuple[datetime, UUID] | None:
    """The (moment, id) an ``after`` cursor points at; BAD_USER_INPUT when it is not ours."""
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        moment, row_id = values
        return datetime.fromisoformat(moment), UUID(row_id)
    except ValueError:
        raise BadInput("the cursor is not valid", field="after") from None
