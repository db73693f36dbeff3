"""ProductApi run as it is deployed (its console script, its own process) counts each GraphQL
operation by name on ``/metrics``: requests by outcome, errors by ``extensions.code`` and
latency, never a variable's value, and ``unknown`` for a query that does not parse."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from nudges_devstack.infra import Postgres, ServiceProcess, TansuBroker, free_port
from nudges_devstack.testing import create_migrated_database, drop_database
from nudges_product.migrations import migration_set

Samples = dict[tuple[str, tuple[str, ...]], float]


@pytest.fixture(scope="module")
def product_url(postgres: Postgres, kafka_broker: TansuBroker, state_dir: Path) -> Iterator[str]:
    database = create_migrated_database(postgres.url, migration_set())
    port = free_port()
    process = ServiceProcess(
        "nudges-product",
        {
            "ENVIRONMENT": "test",
            "HTTP_PORT": str(port),
            "POSTGRES_URL": postgres.url,
            "DATABASE_NAME": database,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers,
            "REGISTER_SUBGRAPH": "false",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        },
        f"http://127.0.0.1:{port}/readyz",
        log_path=state_dir / "product-operation-metrics.log",
    )
    process.start(timeout=60)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()
        asyncio.run(drop_database(postgres.url, database))


def scrape(url: str) -> tuple[str, Samples]:
    """``/metrics`` as text, and the product service's samples of the operation families:
    (sample name, sorted label pairs) -> value."""
    text = httpx.get(f"{url}/metrics").text
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        if family.name.startswith("nudges_graphql_operation"):
            for sample in family.samples:
                labels = dict(sample.labels)
                assert labels.pop("service") == "product"
                pairs = tuple(f"{k}={v}" for k, v in sorted(labels.items()))
                samples[sample.name, pairs] = sample.value
    return text, samples


def graphql(url: str, query: str, **variables: object) -> dict[str, object]:
    answer = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_named_operations_of_a_running_subgraph_are_counted_by_name(product_url: str) -> None:
    secret = "variable-value-8d3f1c"
    for _ in range(2):
        body = graphql(product_url, "query PublicPlans { plans { edges { node { id name } } } }")
        assert body.get("errors") is None, body
    for _ in range(3):
        body = graphql(product_url, "query OnePlan($id: ID!) { plan(id: $id) { id } }", id=secret)
        assert body["errors"], body
    graphql(product_url, 'mutation ArchiveIt { archivePlan(id: "x") { id } }')
    graphql(product_url, "query Half { plans { id ")

    text, samples = scrape(product_url)
    ok = ("nudges_graphql_operations_total", ("kind=query", "operation=PublicPlans", "outcome=ok"))
    assert samples[ok] == 2
    latency = ("nudges_graphql_operation_seconds_count", ("kind=query", "operation=PublicPlans"))
    assert samples[latency] == 2
    bucket = ("kind=query", "le=+Inf", "operation=PublicPlans")
    assert samples["nudges_graphql_operation_seconds_bucket", bucket] == 2

    failed = ("kind=query", "operation=OnePlan", "outcome=error")
    assert samples["nudges_graphql_operations_total", failed] == 3
    codes = {
        pairs: value
        for (name, pairs), value in samples.items()
        if name == "nudges_graphql_operation_errors_total" and "operation=OnePlan" in pairs
    }
    assert sum(codes.values()) == 3, codes
    assert all(not pairs[0].endswith("=UNSPECIFIED") for pairs in codes), codes

    denied = ("code=UNAUTHENTICATED", "operation=ArchiveIt")
    assert samples["nudges_graphql_operation_errors_total", denied] == 1
    unparsed = ("code=GRAPHQL_PARSE_FAILED", "operation=unknown")
    assert samples["nudges_graphql_operation_errors_total", unparsed] == 1

    assert secret not in text
    assert "Half" not in text
