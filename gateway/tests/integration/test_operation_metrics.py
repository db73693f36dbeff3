"""The gateway counts each request by operation name on its own ``/metrics``: requests by
outcome, errors by code and latency, under the name the parsed document gives (never the
variables), and ``unknown`` for a query that does not parse."""

from __future__ import annotations

import uuid

import httpx
from gateway_support import Recorder, RunningGateway
from prometheus_client.parser import text_string_to_metric_families


def _samples(gateway: RunningGateway, operation: str) -> dict[tuple[str, tuple[str, ...]], float]:
    """The gateway's samples of the operation families for ``operation``: (sample name,
    sorted label pairs other than service and operation) -> value."""
    text = httpx.get(gateway.served.url + "/metrics").text
    found: dict[tuple[str, tuple[str, ...]], float] = {}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("nudges_graphql_operation"):
            continue
        for sample in family.samples:
            labels = dict(sample.labels)
            if labels.pop("service", None) != "gateway" or labels.pop("operation") != operation:
                continue
            found[sample.name, tuple(f"{k}={v}" for k, v in sorted(labels.items()))] = sample.value
    return found


def test_named_operations_are_counted_by_name_outcome_and_code(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    name = f"TopProducts_{uuid.uuid4().hex[:8]}"
    secret = f"variable-{uuid.uuid4().hex}"
    query = (
        f"query {name}($upc: String!) "
        "{ topProducts(first: 2) { name } product(upc: $upc) { name } }"
    )
    for _ in range(3):
        assert "errors" not in gateway.query(query, {"upc": secret})

    broken = f"Broken_{uuid.uuid4().hex[:8]}"
    refused = gateway.query(f"query {broken} {{ topProducts {{ noSuchField }} }}")
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # type: ignore[index]

    ok = _samples(gateway, name)
    assert ok[("nudges_graphql_operations_total", ("kind=query", "outcome=ok"))] == 3
    assert ok[("nudges_graphql_operation_seconds_count", ("kind=query",))] == 3
    assert not any(key[0] == "nudges_graphql_operation_errors_total" for key in ok)

    failed = _samples(gateway, broken)
    assert failed[("nudges_graphql_operations_total", ("kind=query", "outcome=error"))] == 1
    code = ("nudges_graphql_operation_errors_total", ("code=GRAPHQL_VALIDATION_FAILED",))
    assert failed[code] == 1

    text = httpx.get(gateway.served.url + "/metrics").text
    assert secret not in text


def test_a_query_that_does_not_parse_names_nothing(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    name = f"Unfinished_{uuid.uuid4().hex[:8]}"
    before = _samples(gateway, "unknown").get(
        ("nudges_graphql_operation_errors_total", ("code=GRAPHQL_PARSE_FAILED",)), 0
    )
    body = gateway.query(f"query {name} {{ topProducts {{ name }}")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"  # type: ignore[index]

    after = _samples(gateway, "unknown")
    assert after[("nudges_graphql_operation_errors_total", ("code=GRAPHQL_PARSE_FAILED",))] == (
        before + 1
    )
    assert name not in httpx.get(gateway.served.url + "/metrics").text
