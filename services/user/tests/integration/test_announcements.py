"""Announcements: confirmed once per draft, and their progress pushed to subscribers of
announcementProgress as deliveries are recorded (tests/integration/test_deliveries.py)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from nudges_devstack.testing import SubgraphClient
from nudges_kit.events.catalog import providers, sms

if TYPE_CHECKING:
    from conftest import Publish

CONFIRM = """mutation($c: ID!, $b: String!, $k: String!) {
  confirmAnnouncement(clientId: $c, body: $b, draftKey: $k) { id status recipients } }"""


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


def test_the_owner_sees_progress_pushed_over_graphql_transport_ws(
    api: SubgraphClient, publish: Publish
) -> None:
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
        sid = f"SM{uuid.uuid4().hex}"
        publish(
            sms.announcement_outcomes,
            aid,
            sms.AnnouncementOutcomesData(
                announcement_id=aid,
                client_id=owner.subject,
                outcomes=[
                    sms.SendOutcome(
                        subscriber_id=fan.subject, outcome="queued", message_sid=sid, segments=1
                    )
                ],
            ),
        )
        publish(
            providers.twilio_status,
            sid,
            providers.TwilioStatusData(message_sid=sid, status="delivered"),
        )
        # A queued copy moves no count: the next push is the delivery.
        pushed = ws.receive_json()
        assert pushed["payload"]["data"]["announcementProgress"] == {
            "status": "SENT",
            "delivered": 1,
        }
        assert ws.receive_json()["type"] == "complete"
