"""Cursors over creation order, and connections of domain slices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar
from uuid import UUID

from nudges_kit.graphql import Connection, Page, bad_input, decode_cursor, encode_cursor
from nudges_product.adapters.repository import Position
from nudges_product.service_layer.queries import Slice


class Positioned(Protocol):
    @property
    def id(self) -> UUID: ...

    @property
    def created_at(self) -> datetime: ...


D = TypeVar("D", bound=Positioned)
N = TypeVar("N")


def position(after: str | None) -> Position | None:
    """The row an ``after`` cursor points at; BAD_USER_INPUT when it is not ours."""
    values = decode_cursor(after)
    if values is None:
        return None
    try:
        created_at, row_id = values
        return datetime.fromisoformat(created_at), UUID(row_id)
    except ValueError:
        raise bad_input("the cursor is not valid", field="after") from None


def connection(found: Slice[D], node: Callable[[D], N]) -> Connection[N]:
    """The connection of one page of domain values, each shown as ``node``."""
    return Page(
        items=[node(item) for item in found.items],
        cursors=[encode_cursor(item.created_at.isoformat(), item.id) for item in found.items],
        has_next=found.has_next,
        total=found.total,
    ).connection()
