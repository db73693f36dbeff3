"""Request bodies past ``MAX_REQUEST_BODY_BYTES`` (1 MiB by default) are answered 413 on the
GraphQL path before they are read; requests within it are served as before."""

from __future__ import annotations

import httpx
import orjson
from gateway_support import RunningGateway

from nudges_devstack.http_edge import stream_chunked

MIB = 1024 * 1024


def padded(size: int) -> bytes:
    """A GraphQL request whose ``extensions`` make it ``size`` bytes or more."""
    return orjson.dumps({"query": "{ __typename }", "extensions": {"pad": "x" * size}})


def test_the_default_limit_is_one_mebibyte(gateway: RunningGateway) -> None:
    assert gateway.settings.max_request_body_bytes == MIB


def test_twenty_megabytes_of_extensions_are_refused(gateway: RunningGateway) -> None:
    answer = httpx.post(
        gateway.url,
        content=padded(20 * MIB),
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert answer.status_code == 413, answer.text[:200]
    assert answer.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert answer.headers["connection"] == "close"


def test_a_streamed_body_is_refused_before_it_is_all_sent(gateway: RunningGateway) -> None:
    total = 20 * MIB
    upload = stream_chunked(
        gateway.served.port, "/graphql", total, headers={"content-type": "application/json"}
    )
    assert upload.status == 413, upload.response[:200]
    assert not upload.finished
    assert upload.sent < total


def test_requests_within_the_limit_are_served(gateway: RunningGateway) -> None:
    answer = httpx.post(
        gateway.url,
        content=padded(MIB - 100),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text[:200]
    assert answer.json() == {"data": {"__typename": "Query"}}
