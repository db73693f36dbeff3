"""Inputs of the mutations."""

from __future__ import annotations

import strawberry


@strawberry.input
class CreateClientInput:
    name: str
    slug: str | None = None
    locale: str | None = None


@strawberry.input
class UpdateClientInput:
    name: str | None = None
    slug: str | None = None
    locale: str | None = None
