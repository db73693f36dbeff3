"""Root subscriptions (graphql-transport-ws)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from nudges_kit.graphql import context_of
from nudges_kit.notify import ChangeListener
from nudges_product.adapters.plan_changes import changed_plan_id
from nudges_product.adapters.repository import PLAN_CHANGED_CHANNEL
from nudges_product.entrypoints.graphql import access, loaders
from nudges_product.entrypoints.graphql.types import Plan, plan_visible


def plan_changes_of(info: strawberry.Info) -> ChangeListener:
    """The process's listener of plan changes (started with the app)."""
    connection = context_of(info).request
    assert connection is not None
    changes: ChangeListener = connection.app.state.plan_changes
    return changes


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Pushes a plan whenever its fields or tiers change (only plan id, when"
        " given). Active plans for everyone; archived ones for admins and services."
    )
    async def plan_updated(
        self, info: strawberry.Info, id: strawberry.ID | None = None
    ) -> AsyncGenerator[Plan, None]:
        wanted = access.parse_id(id) if id is not None else None
        context = context_of(info)
        async with plan_changes_of(info).subscribe(PLAN_CHANGED_CHANNEL) as changed:
            while True:
                plan_id = changed_plan_id(await changed.get())
                if plan_id is None or (wanted is not None and plan_id != wanted):
                    continue
                # The context lives as long as the websocket: drop what its loaders cached.
                context.loaders.clear()
                plan = await loaders.plans(info).load(plan_id)
                if plan is not None and plan_visible(info, plan):
                    yield Plan.of(plan)
