"""@stream over HTTP: a client accepting multipart/mixed gets a streamed list's first
``initialCount`` items in the initial part and the others in a later part, at the path of
the first of them; ``if: false`` and clients without multipart get the whole list at once."""

from __future__ import annotations

import httpx
from gateway_support import MULTIPART, Recorder, RunningGateway, parts_of

QUERY = "{ topProducts @stream(initialCount: 1) { upc name stock } }"


def test_the_items_after_the_initial_count_come_in_a_later_part(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    response = httpx.post(gateway.url, json={"query": QUERY}, headers={"accept": MULTIPART})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith('multipart/mixed;boundary="graphql"')
    initial, rest = parts_of(response)
    assert initial == {
        "data": {"topProducts": [{"upc": "p1", "name": "Table", "stock": 3}]},
        "hasNext": True,
    }
    assert rest == {
        "incremental": [
            {
                "items": [
                    {"upc": "p2", "name": "Chair", "stock": 0},
                    {"upc": "p3", "name": "Lamp", "stock": 12},
                ],
                "path": ["topProducts", 1],
            }
        ],
        "hasNext": False,
    }
    assert len(reset["products"].requests) == 1


def test_a_label_a_variable_count_and_errors_go_with_their_items(
    gateway: RunningGateway,
) -> None:
    query = """query($n: Int!) {
      topProducts { reviews @stream(initialCount: $n, label: "more") { body flaky } }
    }"""
    response = httpx.post(
        gateway.url, json={"query": query, "variables": {"n": 1}}, headers={"accept": MULTIPART}
    )
    initial, rest = parts_of(response)
    assert initial["data"]["topProducts"] == [
        {"reviews": [{"body": "Sturdy", "flaky": None}]},
        {"reviews": [{"body": "Comfy", "flaky": None}]},
        {"reviews": []},
    ]
    assert sorted(e["path"] for e in initial["errors"]) == [
        ["topProducts", 0, "reviews", 0, "flaky"],
        ["topProducts", 1, "reviews", 0, "flaky"],
    ]
    assert rest["hasNext"] is False
    (entry,) = rest["incremental"]
    assert entry["label"] == "more"
    assert entry["path"] == ["topProducts", 0, "reviews", 1]
    assert entry["items"] == [{"body": "Wobbly", "flaky": None}]
    assert [e["path"] for e in entry["errors"]] == [["topProducts", 0, "reviews", 1, "flaky"]]


def test_stream_and_defer_in_one_operation(gateway: RunningGateway) -> None:
    query = """{ topProducts @stream(initialCount: 2) {
      upc ... @defer(label: "r") { reviews { body } } } }"""
    response = httpx.post(gateway.url, json={"query": query}, headers={"accept": MULTIPART})
    initial, items, deferred = parts_of(response)
    assert initial == {"data": {"topProducts": [{"upc": "p1"}, {"upc": "p2"}]}, "hasNext": True}
    assert items == {
        "incremental": [{"items": [{"upc": "p3"}], "path": ["topProducts", 2]}],
        "hasNext": True,
    }
    assert deferred["hasNext"] is False
    assert [p["path"] for p in deferred["incremental"]] == [["topProducts", i] for i in range(3)]
    assert deferred["incremental"][0]["data"] == {
        "reviews": [{"body": "Sturdy"}, {"body": "Wobbly"}]
    }


def test_a_stream_turned_off_or_a_client_without_multipart_gets_the_whole_list(
    gateway: RunningGateway,
) -> None:
    off = "query($s: Boolean!) { topProducts @stream(if: $s, initialCount: 1) { upc } }"
    response = httpx.post(
        gateway.url, json={"query": off, "variables": {"s": False}}, headers={"accept": MULTIPART}
    )
    assert response.headers["content-type"].startswith("application/json")
    assert [p["upc"] for p in response.json()["data"]["topProducts"]] == ["p1", "p2", "p3"]
    body = gateway.query(QUERY)
    assert "errors" not in body
    assert len(body["data"]["topProducts"]) == 3  # type: ignore[index]


def test_stream_on_a_field_that_is_no_list_is_refused(gateway: RunningGateway) -> None:
    body = gateway.query('{ product(upc: "p1") @stream { upc } }')
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # type: ignore[index]
