"""The UserApi subgraph schema (Apollo Federation v2)."""

from __future__ import annotations

from strawberry.federation import Schema

from nudges_kit.graphql import DomainErrors
from nudges_user.entrypoints.graphql.mutations import Mutation
from nudges_user.entrypoints.graphql.queries import Query
from nudges_user.entrypoints.graphql.subscriptions import Subscription
from nudges_user.entrypoints.graphql.types import Admin, Announcement, Client, Subscriber

schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[Admin, Client, Subscriber, Announcement],
    extensions=[DomainErrors],
)
