"""What a GraphQL operation is counted under (:mod:`nudges_kit.metrics`): the operation
selected in the document parsed from the request, its kind and its errors' codes; and the
strawberry extension that counts every operation a subgraph answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, get_operation_ast
from strawberry.extensions import SchemaExtension

from nudges_kit.logging import get_logger
from nudges_kit.metrics import record_graphql_operation

log = get_logger(__name__)

#: The operation label of an operation without a name.
ANONYMOUS = "anonymous"
#: The operation (and kind) label when no document parsed from the request's text, or no
#: operation in it matches ``operationName``.
UNKNOWN = "unknown"
KINDS = frozenset({"query", "mutation", "subscription"})

GraphQLErrorLike = GraphQLError | Mapping[str, Any]


def selected_operation(
    document: DocumentNode | None, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation of ``document`` a request runs: the one named ``operation_name``, or the
    only one when no name is given (None when there is no such single operation)."""
    if document is None:
        return None
    return get_operation_ast(document, operation_name)


def operation_label(operation: OperationDefinitionNode | None) -> tuple[str, str]:
    """The (name, kind) an operation is counted under: its name as the parsed document spells
    it (:data:`ANONYMOUS` without one); :data:`UNKNOWN` for both without an operation."""
    if operation is None:
        return UNKNOWN, UNKNOWN
    kind = operation.operation.value
    name = operation.name.value if operation.name else ANONYMOUS
    return name, kind if kind in KINDS else UNKNOWN


def error_code(error: GraphQLErrorLike) -> str | None:
    """The ``extensions.code`` of an error, given as a GraphQLError or as its JSON."""
    extensions = error.extensions if isinstance(error, GraphQLError) else error.get("extensions")
    code = extensions.get("code") if isinstance(extensions, Mapping) else None
    return code if isinstance(code, str) and code else None


def count_operation(
    service: str,
    operation: OperationDefinitionNode | None,
    errors: Sequence[GraphQLErrorLike],
    seconds: float | None,
    uncoded: str = "UNSPECIFIED",
) -> None:
    """Count one answered operation of ``service`` (``uncoded``: the code of an error that
    carries none)."""
    name, kind = operation_label(operation)
    codes = [error_code(err) or uncoded for err in errors]
    record_graphql_operation(service, name, kind, codes, seconds)


class OperationMetrics(SchemaExtension):
    """Counts every operation a strawberry schema answers, for the service named by the
    request context's ``settings.service_name``. The name is taken only from a document parsed
    from this request's own text: the stand-in document put in place of a query refused
    unparsed never names it. A subscription is counted once, when it ends, without a
    duration (its client leaving is no error); a query or mutation stopped at its deadline
    counts as ``OPERATION_TIMEOUT``."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        raised: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            raised = exc
            raise
        finally:
            try:
                self._count(time.perf_counter() - started, raised)
            except Exception:
                # Counting never costs the client its answer.
                log.exception("could not count a GraphQL operation")

    def _count(self, seconds: float, raised: BaseException | None) -> None:
        context = self.execution_context
        settings = getattr(context.context, "settings", None)
        service = str(getattr(settings, "service_name", None) or UNKNOWN)
        document = context.graphql_document
        parsed_here = (
            document is not None
            and document.loc is not None
            and document.loc.source.body == context.query
        )
        operation = selected_operation(document if parsed_here else None, context.operation_name)
        result = context.result
        errors: list[GraphQLErrorLike] = list(
            (result.errors if result is not None else None) or context.pre_execution_errors or []
        )
        cancelled = isinstance(raised, asyncio.CancelledError)
        subscription = operation is not None and operation.operation.value == "subscription"
        # A subscription ends by its client leaving (the stream closed or cancelled): no error.
        left = isinstance(raised, GeneratorExit) or (subscription and cancelled)
        if raised is not None and not left:
            code = "OPERATION_TIMEOUT" if cancelled else "INTERNAL_SERVER_ERROR"
            errors.append({"extensions": {"code": code}})
        if not parsed_here:
            uncoded = "GRAPHQL_PARSE_FAILED"
        elif context.pre_execution_errors:
            uncoded = "GRAPHQL_VALIDATION_FAILED"
        else:
            uncoded = "UNSPECIFIED"
        count_operation(service, operation, errors, seconds, uncoded)
