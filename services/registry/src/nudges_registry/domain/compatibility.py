"""Whether a new supergraph breaks the published one: clients' operations that were valid
must stay valid (no field removed, no type changed, no required argument added)."""

from __future__ import annotations

from graphql import find_breaking_changes

from nudges_kit.federation_api import api_schema


def breaking_changes(published_sdl: str, candidate_sdl: str) -> list[str]:
    """What ``candidate_sdl`` breaks of ``published_sdl``'s API schema, in words."""
    changes = find_breaking_changes(api_schema(published_sdl), api_schema(candidate_sdl))
    return [f"{change.type.name}: {change.description}" for change in changes]
