"""The PaymentApi subgraph schema (Apollo Federation v2)."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema.config import StrawberryConfig

from nudges_payment.entrypoints.graphql.context import INTERNAL_SERVER_ERROR, is_unexpected
from nudges_payment.entrypoints.graphql.mutations import Mutation
from nudges_payment.entrypoints.graphql.queries import Query
from nudges_payment.entrypoints.graphql.types import (
    MINOR_UNITS_SCALAR,
    CheckoutSession,
    Client,
    MinorUnits,
    PaymentConfirmation,
)


class MaskUnexpectedErrors(MaskErrors):
    """Bugs and lost connections reach the caller as one safe message with a stable code;
    the details stay in the log."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="internal error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL_SERVER_ERROR}
        return masked


schema = strawberry.federation.Schema(
    query=Query,
    mutation=Mutation,
    types=[CheckoutSession, PaymentConfirmation, Client],
    extensions=[MaskUnexpectedErrors],
    config=StrawberryConfig(scalar_map={MinorUnits: MINOR_UNITS_SCALAR}),
)
