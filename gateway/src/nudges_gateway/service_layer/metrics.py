"""The gateway's count of each GraphQL request by operation name, in the same families as
every subgraph's (:mod:`nudges_kit.metrics`, service ``gateway``): requests, errors by code,
and latency."""

from __future__ import annotations

from collections.abc import Sequence

from graphql import GraphQLError, OperationDefinitionNode, parse

from nudges_kit.graphql_metrics import GraphQLErrorLike, count_operation, selected_operation

SERVICE = "gateway"


def refused_operation(
    query: str | None, operation_name: str | None, max_query_bytes: int
) -> OperationDefinitionNode | None:
    """The operation a refused request selected, when its text parses: a query refused by
    validation or a limit is still counted under its own name. Nothing is parsed past the
    size limit, and a query that does not parse names nothing."""
    if query is None or len(query.encode()) > max_query_bytes:
        return None
    try:
        document = parse(query, no_location=True)
    except GraphQLError:
        return None
    return selected_operation(document, operation_name)


def count_request(
    operation: OperationDefinitionNode | None,
    errors: Sequence[GraphQLErrorLike],
    seconds: float | None,
) -> None:
    """Count one request the gateway answered (``operation``: the one it selected in the
    parsed document, None when none)."""
    count_operation(SERVICE, operation, errors, seconds)
