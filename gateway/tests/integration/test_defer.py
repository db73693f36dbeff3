"""@defer over HTTP: a client accepting multipart/mixed gets the initial part first and the
deferred fragments after it, with their paths (Apollo Router's deferSpec=20220824); a client
that does not gets the whole result at once."""

from __future__ import annotations

import time

import httpx
from gateway_support import MULTIPART, Recorder, RunningGateway, parts_of

QUERY = """{ topProducts { upc ... @defer(label: "slow") { stock reviews { body } } } }"""


def test_deferred_fragments_come_after_the_initial_part(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    response = httpx.post(gateway.url, json={"query": QUERY}, headers={"accept": MULTIPART})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith('multipart/mixed;boundary="graphql"')
    assert response.content.endswith(b"\r\n--graphql--\r\n")
    initial, rest = parts_of(response)
    assert initial == {
        "data": {"topProducts": [{"upc": "p1"}, {"upc": "p2"}, {"upc": "p3"}]},
        "hasNext": True,
    }
    assert rest["hasNext"] is False
    incremental = rest["incremental"]
    assert [part["path"] for part in incremental] == [["topProducts", i] for i in range(3)]
    assert {part["label"] for part in incremental} == {"slow"}
    assert incremental[0]["data"] == {
        "stock": 3,
        "reviews": [{"body": "Sturdy"}, {"body": "Wobbly"}],
    }
    assert incremental[2]["data"]["reviews"] == []


def test_the_deferred_fragments_reuse_the_requests_of_the_initial_part(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    response = httpx.post(gateway.url, json={"query": QUERY}, headers={"accept": MULTIPART})
    initial, rest = parts_of(response)
    assert initial["data"]["topProducts"][1] == {"upc": "p2"}
    assert rest["incremental"][1]["data"]["stock"] == 0
    # One request per subgraph: topProducts is not asked again for the deferred fields.
    assert [len(reset[name].requests) for name in ("products", "inventory", "reviews")] == [
        1,
        1,
        1,
    ]


def test_a_deferred_root_field_is_asked_apart_and_the_initial_part_does_not_wait_for_it(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    query = '{ reviews { body } ... @defer(label: "late") { slow(seconds: 1.5) } }'
    started = time.monotonic()
    first_at = None
    body = b""
    with httpx.stream(
        "POST", gateway.url, json={"query": query}, headers={"accept": MULTIPART}, timeout=30
    ) as response:
        for chunk in response.iter_bytes():
            if first_at is None:
                first_at = time.monotonic() - started
            body += chunk
    assert first_at is not None
    assert first_at < 1.0
    assert time.monotonic() - started >= 1.5
    initial, rest = parts_of(httpx.Response(200, content=body))
    assert initial["data"]["reviews"][0] == {"body": "Sturdy"}
    assert rest["incremental"] == [{"data": {"slow": "slept 1.5"}, "path": [], "label": "late"}]
    # Two requests to reviews: the initial field in one, the deferred one in the other.
    sent = reset["reviews"].queries
    assert len(sent) == 2
    assert all(("slow" in q) != ("reviews" in q) for q in sent)


def test_a_client_without_multipart_gets_the_whole_result(gateway: RunningGateway) -> None:
    body = gateway.query(QUERY)
    assert "errors" not in body
    first = body["data"]["topProducts"][0]  # type: ignore[index]
    assert first == {"upc": "p1", "stock": 3, "reviews": [{"body": "Sturdy"}, {"body": "Wobbly"}]}


def test_a_defer_turned_off_by_its_variable_answers_at_once(gateway: RunningGateway) -> None:
    query = "query($d: Boolean!) { topProducts { upc ... @defer(if: $d) { stock } } }"
    response = httpx.post(
        gateway.url,
        json={"query": query, "variables": {"d": False}},
        headers={"accept": MULTIPART},
    )
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["data"]["topProducts"][0] == {"upc": "p1", "stock": 3}


def test_a_mutation_with_deferred_fragments_runs_once(
    gateway: RunningGateway, reset: dict[str, Recorder]
) -> None:
    mutation = 'mutation { setPrice(upc: "p3", price: 45) { price ... @defer { stock } } }'
    response = httpx.post(gateway.url, json={"query": mutation}, headers={"accept": MULTIPART})
    initial, rest = parts_of(response)
    assert initial == {"data": {"setPrice": {"price": 45}}, "hasNext": True}
    assert rest == {
        "incremental": [{"data": {"stock": 12}, "path": ["setPrice"]}],
        "hasNext": False,
    }
    sent = [r["body"]["query"] for r in reset["products"].requests]
    assert sum(q.startswith("mutation") for q in sent) == 1
