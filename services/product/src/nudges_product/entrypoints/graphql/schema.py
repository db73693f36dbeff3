"""The ProductApi subgraph schema (Apollo Federation v2)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry.federation import Schema

from nudges_product.entrypoints.graphql.errors import give_code
from nudges_product.entrypoints.graphql.mutations import Mutation
from nudges_product.entrypoints.graphql.queries import Query
from nudges_product.entrypoints.graphql.subscriptions import Subscription
from nudges_product.entrypoints.graphql.types import Client


class ProductSchema(Schema):
    """Gives domain refusals their error codes; logs only what no caller caused."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: Any | None = None
    ) -> None:
        unexpected = [error for error in errors if not give_code(error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema() -> ProductSchema:
    """The subgraph: queries, mutations, subscriptions, and the ``Client`` it extends."""
    return ProductSchema(query=Query, mutation=Mutation, subscription=Subscription, types=[Client])
