"""The GraphQL entrypoint of PaymentApi."""

from nudges_payment.entrypoints.graphql.schema import schema

__all__ = ["schema"]
