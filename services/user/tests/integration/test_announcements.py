"""Announcements: confirmed once per draft, counted from delivery callbacks in any order,
and pushed to subscribers of announcementProgress."""

from __future__ import annotations

import uuid

from nudges_devstack.testing import SubgraphClient

CONFIRM = """mutation($c: ID!, $b: String!, $k: String!) {
  confirmAnnouncement(clientId: $c, body: $b, draftKey: $k) { id status recipients } }"""
RECORD = """mutation($a: ID!, $s: ID!, $st: DeliveryStatus!, $p: String) {
  recordDelivery(announcementId: $a, subscriberId: $s, status: $st, providerMessageId: $p) {
    status sent delivered failed } }"""
CALLBACK = """mutation($p: String!, $st: DeliveryStatus!) {
  recordMessageStatus(providerMessageId: $p, status: $st) { status sent delivered failed } }"""


def _client_with_members(api: SubgraphClient, members: int) -> tuple[str, list[str]]:
    owner = api.person("client")
    slug = f"news-{uuid.uuid4().hex[:8]}"
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "News", slug: $s}) { id } }',
        owner.token,
        s=slug,
    )
    fans = []
    for _ in range(members):
        fan = api.person("subscriber")
        api.ok("mutation($s: String!) { joinClient(slug: $s) { id } }", fan.token, s=slug)
        fans.append(fan.subject)
    return owner.subject, fans


def test_a_draft_is_confirmed_once_with_its_audience(api: SubgraphClient) -> None:
    client_id, _ = _client_with_members(api, 3)
    service = api.service_token()
    key = f"draft-{uuid.uuid4()}"
    first = api.ok(CONFIRM, service, c=client_id, b="Class at 6pm 🧘", k=key)
    again = api.ok(CONFIRM, service, c=client_id, b="Class at 6pm 🧘", k=key)
    assert first == again
    assert first["confirmAnnouncement"]["recipients"] == 3
    events = api.sql(
        "SELECT event_type FROM outbox WHERE key = %s", first["confirmAnnouncement"]["id"]
    )
    assert events == [("user.announcement.confirmed",)]
    for body in ("", "x" * 1601, "bell\x07"):
        assert api.error_code(CONFIRM, service, c=client_id, b=body, k=str(uuid.uuid4())) == (
            "BAD_USER_INPUT"
        )


def test_counts_follow_callbacks_in_any_order_and_complete(api: SubgraphClient) -> None:
    client_id, fans = _client_with_members(api, 3)
    service = api.service_token()
    aid = api.ok(CONFIRM, service, c=client_id, b="Hello", k=str(uuid.uuid4()))[
        "confirmAnnouncement"
    ]["id"]
    for n, fan in enumerate(fans):
        api.ok(RECORD, service, a=aid, s=fan, st="QUEUED", p=f"SM{aid[:8]}{n}")
    # Delivered arrives before sent for the first; a duplicate callback changes nothing.
    api.ok(CALLBACK, service, p=f"SM{aid[:8]}0", st="DELIVERED")
    api.ok(CALLBACK, service, p=f"SM{aid[:8]}0", st="SENT")
    api.ok(CALLBACK, service, p=f"SM{aid[:8]}0", st="DELIVERED")
    api.ok(CALLBACK, service, p=f"SM{aid[:8]}1", st="SENT")
    state = api.ok(CALLBACK, service, p=f"SM{aid[:8]}2", st="UNDELIVERED")["recordMessageStatus"]
    assert state == {"status": "SENDING", "sent": 2, "delivered": 1, "failed": 1}
    done = api.ok(CALLBACK, service, p=f"SM{aid[:8]}1", st="DELIVERED")["recordMessageStatus"]
    assert done == {"status": "SENT", "sent": 2, "delivered": 2, "failed": 1}
    unknown = api.ok(CALLBACK, service, p="SMnotours", st="DELIVERED")
    assert unknown["recordMessageStatus"] is None


RECORD_MANY = """mutation($a: ID!, $d: [DeliveryInput!]!) {
  recordDeliveries(announcementId: $a, deliveries: $d) {
    status sent delivered failed stopped completedAt } }"""


def test_deliveries_recorded_in_one_call_count_as_one_at_a_time(api: SubgraphClient) -> None:
    client_id, fans = _client_with_members(api, 4)
    service = api.service_token()
    aid = api.ok(CONFIRM, service, c=client_id, b="Sale", k=str(uuid.uuid4()))[
        "confirmAnnouncement"
    ]["id"]
    sids = [f"SM{uuid.uuid4().hex}" for _ in fans]
    queued = [
        {"subscriberId": fan, "status": "QUEUED", "providerMessageId": sid}
        for fan, sid in zip(fans[:3], sids, strict=False)
    ]
    stopped = {"subscriberId": fans[3], "status": "STOPPED"}
    first = api.ok(RECORD_MANY, service, a=aid, d=[*queued, stopped])["recordDeliveries"]
    assert first == {
        "status": "SENDING",
        "sent": 0,
        "delivered": 0,
        "failed": 0,
        "stopped": 1,
        "completedAt": None,
    }
    # Repeated, or late after a callback: statuses only move forward, counted once.
    api.ok(CALLBACK, service, p=sids[0], st="DELIVERED")
    again = api.ok(RECORD_MANY, service, a=aid, d=[*queued, stopped])["recordDeliveries"]
    assert (again["sent"], again["delivered"], again["stopped"]) == (1, 1, 1)
    # Several updates of one recipient in one call, in order; a failure keeps its code.
    done = api.ok(
        RECORD_MANY,
        service,
        a=aid,
        d=[
            {"subscriberId": fans[1], "status": "DELIVERED"},
            {"subscriberId": fans[1], "status": "SENT"},
            {"subscriberId": fans[2], "status": "FAILED", "errorCode": "30003"},
        ],
    )["recordDeliveries"]
    assert (done["status"], done["sent"], done["delivered"], done["failed"]) == ("SENT", 2, 2, 1)
    assert done["completedAt"] is not None
    rows = api.sql(
        "SELECT provider_message_id, status, error_code FROM deliveries"
        " WHERE announcement_id = %s ORDER BY provider_message_id NULLS LAST",
        aid,
    )
    assert sorted(rows, key=str) == sorted(
        [
            (sids[0], "delivered", None),
            (sids[1], "delivered", None),
            (sids[2], "failed", "30003"),
            (None, "stopped", None),
        ],
        key=str,
    )
    unknown = api.error_code(RECORD_MANY, service, a=str(uuid.uuid4()), d=[stopped])
    assert unknown == "NOT_FOUND"


def test_the_owner_sees_progress_pushed_over_graphql_transport_ws(api: SubgraphClient) -> None:
    owner = api.person("client")
    slug = f"live-{uuid.uuid4().hex[:8]}"
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "Live", slug: $s}) { id } }',
        owner.token,
        s=slug,
    )
    fan = api.person("subscriber")
    api.ok("mutation($s: String!) { joinClient(slug: $s) { id } }", fan.token, s=slug)
    service = api.service_token()
    aid = api.ok(CONFIRM, service, c=owner.subject, b="Live!", k=str(uuid.uuid4()))[
        "confirmAnnouncement"
    ]["id"]
    query = "subscription($id: ID!) { announcementProgress(id: $id) { status delivered } }"
    with api.client.websocket_connect(
        "/graphql",
        subprotocols=["graphql-transport-ws"],
        headers={"Authorization": f"Bearer {owner.token}"},
    ) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"id": aid}}}
        )
        first = ws.receive_json()
        assert first["payload"]["data"]["announcementProgress"] == {
            "status": "CONFIRMED",
            "delivered": 0,
        }
        api.ok(RECORD, service, a=aid, s=fan.subject, st="DELIVERED", p=f"SM{aid}")
        pushed = ws.receive_json()
        assert pushed["payload"]["data"]["announcementProgress"] == {
            "status": "SENT",
            "delivered": 1,
        }
        assert ws.receive_json()["type"] == "complete"
