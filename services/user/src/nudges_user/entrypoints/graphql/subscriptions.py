"""Root subscriptions (graphql-transport-ws), fed by PostgreSQL NOTIFY so that they work
with several replicas."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from uuid import UUID

import strawberry

from nudges_kit.graphql import context_of
from nudges_kit.notify import ChangeListener
from nudges_user.adapters import repository as repo
from nudges_user.entrypoints.graphql.access import require_owner, visible_announcement
from nudges_user.entrypoints.graphql.context import Info, parse_id, pool_of
from nudges_user.entrypoints.graphql.types import Announcement, Client
from nudges_user.service_layer.services import ANNOUNCEMENT_PROGRESS, CLIENT_UPDATED


def _changes(info: Info) -> ChangeListener:
    """This process's one listening connection for the subscriptions below; it opens with
    the first subscriber and holds no connection of the request pool."""
    request = context_of(info).request
    assert request is not None
    state = request.app.state
    listener: ChangeListener | None = getattr(state, "change_listener", None)
    if listener is None:
        listener = ChangeListener(
            context_of(info).settings.database_url(), [CLIENT_UPDATED, ANNOUNCEMENT_PROGRESS]
        )
        state.change_listener = listener
    return listener


@strawberry.type
class Subscription:
    @strawberry.subscription(description="A client's profile each time it changes.")
    async def client_updated(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Client, None]:
        require_owner(info, str(id))
        cid = parse_id(id, "id")
        async with _changes(info).subscribe(CLIENT_UPDATED) as changes:
            while True:
                if await changes.get() != str(cid):
                    continue
                found = await repo.clients_by_ids(pool_of(info), [cid])
                if str(cid) in found:
                    yield Client.of(found[str(cid)])

    @strawberry.subscription(description="An announcement's counts as deliveries progress.")
    async def announcement_progress(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[Announcement, None]:
        aid = UUID((await visible_announcement(info, id)).id)
        # Listening before reading the counts: no change falls between the two.
        async with _changes(info).subscribe(ANNOUNCEMENT_PROGRESS) as changes:
            latest = (await repo.announcements_by_ids(pool_of(info), [aid]))[str(aid)]
            yield Announcement.of(latest)
            while latest.completed_at is None:
                if await changes.get() != str(aid):
                    continue
                latest = (await repo.announcements_by_ids(pool_of(info), [aid]))[str(aid)]
                yield Announcement.of(latest)
