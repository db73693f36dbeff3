"""The request's DataLoaders (one per request: no N+1 queries)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from strawberry.dataloader import DataLoader

from nudges_kit.graphql import context_of
from nudges_user.adapters import repository as repo
from nudges_user.domain import model
from nudges_user.entrypoints.graphql.context import Info, pool_of


def clients(info: Info) -> DataLoader[str, model.Client | None]:
    """Clients by id."""
    pool = pool_of(info)

    async def load(ids: list[str]) -> Sequence[model.Client | None]:
        found = await repo.clients_by_ids(pool, [UUID(i) for i in ids])
        return [found.get(i) for i in ids]

    return context_of(info).loader("clients", lambda: DataLoader(load_fn=load))


def member_counts(info: Info) -> DataLoader[str, int]:
    """Active members per client id."""
    pool = pool_of(info)

    async def load(ids: list[str]) -> Sequence[int]:
        counts = await repo.active_member_counts(pool, [UUID(i) for i in ids])
        return [counts[i] for i in ids]

    return context_of(info).loader("member_counts", lambda: DataLoader(load_fn=load))


def subscribers(info: Info) -> DataLoader[str, model.Subscriber | None]:
    """Subscribers by id."""
    pool = pool_of(info)

    async def load(ids: list[str]) -> Sequence[model.Subscriber | None]:
        found = await repo.subscribers_by_ids(pool, [UUID(i) for i in ids])
        return [found.get(i) for i in ids]

    return context_of(info).loader("subscribers", lambda: DataLoader(load_fn=load))


def memberships(info: Info) -> DataLoader[str, list[model.Membership]]:
    """Every membership per subscriber id."""
    pool = pool_of(info)

    async def load(ids: list[str]) -> Sequence[list[model.Membership]]:
        found = await repo.memberships_of_subscribers(pool, [UUID(i) for i in ids])
        return [found[i] for i in ids]

    return context_of(info).loader("memberships", lambda: DataLoader(load_fn=load))


def announcements(info: Info) -> DataLoader[str, model.Announcement | None]:
    """Announcements by id."""
    pool = pool_of(info)

    async def load(ids: list[str]) -> Sequence[model.Announcement | None]:
        found = await repo.announcements_by_ids(pool, [UUID(i) for i in ids])
        return [found.get(i) for i in ids]

    return context_of(info).loader("announcements", lambda: DataLoader(load_fn=load))
