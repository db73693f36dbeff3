"""The operation label stays bounded: names only from a parsed document's selected operation,
the first names of a service kept, every later one counted as ``other``."""

from __future__ import annotations

import uuid

from graphql import parse
from prometheus_client import REGISTRY

from nudges_kit.graphql_metrics import count_operation, operation_label, selected_operation
from nudges_kit.metrics import OPERATION_NAMES_LIMIT, OTHER, BoundedLabel


def test_a_bounded_label_keeps_the_first_values_then_answers_other() -> None:
    label = BoundedLabel(3)
    assert [label(v) for v in ("a", "b", "a", "c", "d", "e", "b")] == [
        "a", "b", "a", "c", OTHER, OTHER, "b",
    ]  # fmt: skip


def test_the_label_is_the_selected_operation_of_the_document() -> None:
    document = parse("query Plans { plans { id } } mutation Archive { archivePlan(id: 1) }")
    assert operation_label(selected_operation(document, "Archive")) == ("Archive", "mutation")
    # A name the document does not hold names nothing: the request's field alone is not trusted.
    assert operation_label(selected_operation(document, "Invented")) == ("unknown", "unknown")
    assert operation_label(selected_operation(document, None)) == ("unknown", "unknown")
    assert operation_label(selected_operation(parse("{ plans { id } }"), None)) == (
        "anonymous",
        "query",
    )
    assert operation_label(selected_operation(None, "Plans")) == ("unknown", "unknown")


def test_past_the_limit_new_names_of_a_service_count_as_other() -> None:
    service = f"svc-{uuid.uuid4().hex[:6]}"
    for i in range(OPERATION_NAMES_LIMIT + 5):
        document = parse(f"query Op{i} {{ a }}")
        count_operation(service, selected_operation(document, None), [], 0.01)

    def value(operation: str) -> float | None:
        return REGISTRY.get_sample_value(
            "nudges_graphql_operations_total",
            {"service": service, "operation": operation, "kind": "query", "outcome": "ok"},
        )

    assert value("Op0") == 1
    assert value(f"Op{OPERATION_NAMES_LIMIT - 1}") == 1
    assert value(f"Op{OPERATION_NAMES_LIMIT}") is None
    assert value(OTHER) == 5
