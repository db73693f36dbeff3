"""Schemathesis over the REST APIs the outside world calls, as published in their OpenAPI
documents: AuthApi (``/auth/openapi.json``) and Webhooks (``/openapi.json``). Each operation
gets 50 generated requests, valid and invalid ones alike, against the running processes;
none may answer a server error."""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from reliability_support import figure
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation

# Loaded here, at collection, rather than lazily by ``from_url`` deep inside a test: CPython
# 3.11.7 can fail to parse a module imported after an earlier test hit a RecursionError
# ("AST constructor recursion depth mismatch", fixed in later 3.11 releases).
from schemathesis.specs.openapi import schemas as _openapi_schemas  # noqa: F401

from nudges_devstack.platform import Platform

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

EXAMPLES_PER_OPERATION = 50
DOCUMENTS = {"auth": "/auth/openapi.json", "webhooks": "/openapi.json"}


def _fuzz(
    operation: APIOperation[Any, Any, Any, Any], base_url: str, statuses: dict[int, int]
) -> int:
    """Send the operation's generated requests; how many were sent."""
    sent = 0

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )
    )
    def run(case: Case[Any]) -> None:
        nonlocal sent
        response = case.call(base_url=base_url, timeout=30)
        sent += 1
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=[not_a_server_error])

    run()
    return sent


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_no_generated_request_gets_a_server_error(platform: Platform, service: str) -> None:
    base_url = platform.url(service)
    schema = schemathesis.openapi.from_url(base_url + DOCUMENTS[service])
    schema.config.update(base_url=base_url)
    sent: dict[str, int] = {}
    statuses: dict[int, int] = {}

    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise AssertionError(f"{service}: an operation cannot be read: {result.err()}")
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        sent[label] = _fuzz(operation, base_url, statuses)

    assert sent, "the document lists no operation"
    assert not [code for code in statuses if code >= 500], statuses
    figure(
        f"schemathesis {service}",
        f"{sum(sent.values())} requests over {len(sent)} operations, statuses "
        + ", ".join(f"{code}x{n}" for code, n in sorted(statuses.items())),
    )
