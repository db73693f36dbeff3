"""@defer over HTTP: a client accepting multipart/mixed gets the initial part first and the
deferred fragments after it, with their paths (Apollo Router's deferSpec=20220824); a client
that does not gets the whole result at once."""

from __future__ import annotations

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
