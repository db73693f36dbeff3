"""Recipients who text STOP between the confirmation and their copy: the sender asks who may
still be sent to (``announcementRecipients`` with ``subscriberIds``), reports the others as
held back, and the announcement completes when delivered + failed + stopped reach its
recipients."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from nudges_devstack.testing import SubgraphClient
from nudges_kit.events.catalog import providers, sms

if TYPE_CHECKING:
    from conftest import Publish

CONFIRM = """mutation($c: ID!, $b: String!, $k: String!) {
  confirmAnnouncement(clientId: $c, body: $b, draftKey: $k) { id recipients } }"""
TO_SEND = """query($c: ID!, $a: ID!, $s: [ID!]!) {
  announcementRecipients(clientId: $c, announcementId: $a, subscriberIds: $s) {
    recipients { subscriberId } nextAfter } }"""
COUNTS = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Announcement {
  status sent delivered failed stopped completedAt } } }"""
AUDIENCE = """query($c: ID!, $a: ID) {
  announcementRecipients(clientId: $c, announcementId: $a) { recipients { subscriberId } } }"""


def test_stopped_recipients_are_held_back_counted_and_complete_the_announcement(
    api: SubgraphClient, publish: Publish
) -> None:
    owner = api.person("client")
    slug = f"farm-{uuid.uuid4().hex[:8]}"
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "Farm", slug: $s}) { id } }',
        owner.token,
        s=slug,
    )
    fans = [api.person("subscriber") for _ in range(3)]
    for fan in fans:
        api.ok("mutation($s: String!) { joinClient(slug: $s) { id } }", fan.token, s=slug)
    service = api.service_token()
    aid = api.ok(CONFIRM, service, c=owner.subject, b="Eggs", k=str(uuid.uuid4()))[
        "confirmAnnouncement"
    ]["id"]
    stopped, late = fans[0], api.person("subscriber")
    api.ok("mutation($c: ID!) { leaveClient(clientId: $c) { id } }", stopped.token, c=owner.subject)
    api.ok("mutation($s: String!) { joinClient(slug: $s) { id } }", late.token, s=slug)

    # The audience is the one counted at the confirmation, whoever stopped since.
    audience = api.ok(AUDIENCE, service, c=owner.subject, a=aid)["announcementRecipients"]
    assert sorted(r["subscriberId"] for r in audience["recipients"]) == sorted(
        f.subject for f in fans
    )
    now = api.ok(AUDIENCE, service, c=owner.subject, a=None)["announcementRecipients"]
    assert sorted(r["subscriberId"] for r in now["recipients"]) == sorted(
        f.subject for f in [*fans[1:], late]
    )

    ask = {"c": owner.subject, "a": aid, "s": [f.subject for f in fans]}

    def to_send() -> list[str]:
        page = api.ok(TO_SEND, service, **ask)["announcementRecipients"]
        assert page["nextAfter"] is None
        return sorted(r["subscriberId"] for r in page["recipients"])

    def report(*outcomes: sms.SendOutcome) -> dict[str, Any]:
        """The sender's outcomes published; the announcement once UserApi handled them."""
        event_id = publish(
            sms.announcement_outcomes,
            aid,
            sms.AnnouncementOutcomesData(
                announcement_id=aid, client_id=owner.subject, outcomes=list(outcomes)
            ),
        )
        deadline = time.monotonic() + 30
        while not api.sql("SELECT 1 FROM handled_events WHERE event_id = %s", event_id):
            assert time.monotonic() < deadline, "outcomes not handled"
            time.sleep(0.1)
        found = api.ok(COUNTS, service, r=[{"__typename": "Announcement", "id": aid}])
        return dict(found["_entities"][0])

    assert to_send() == sorted(f.subject for f in fans[1:])
    assert api.error_code(TO_SEND, owner.token, **ask) == "FORBIDDEN"

    held_back = sms.SendOutcome(subscriber_id=stopped.subject, outcome="held_back")
    held = report(held_back)
    assert (held["status"], held["stopped"], held["completedAt"]) == ("SENDING", 1, None)
    # Recorded once: a repeat changes nothing, and a held-back copy is never sent later.
    assert report(held_back)["stopped"] == 1
    api.ok("mutation($s: String!) { joinClient(slug: $s) { id } }", stopped.token, s=slug)
    assert stopped.subject not in to_send()
    # A copy that went to Twilio is not "stopped" afterwards.
    sid = f"SM{uuid.uuid4().hex}"
    sent = sms.SendOutcome(subscriber_id=fans[1].subject, outcome="queued", message_sid=sid)
    report(sent)
    after_send = report(sms.SendOutcome(subscriber_id=fans[1].subject, outcome="held_back"))
    assert after_send["stopped"] == 1

    failed = sms.SendOutcome(subscriber_id=fans[2].subject, outcome="failed", error_code="21610")
    assert report(failed)["completedAt"] is None  # the queued copy is not delivered yet

    delivered = providers.TwilioStatusData(message_sid=sid, status="delivered")
    publish(providers.twilio_status, sid, delivered)
    deadline = time.monotonic() + 30
    while not (
        done := api.ok(COUNTS, service, r=[{"__typename": "Announcement", "id": aid}])["_entities"][
            0
        ]
    )["completedAt"]:
        assert time.monotonic() < deadline, "not completed"
        time.sleep(0.1)
    assert (done["status"], done["sent"], done["delivered"], done["failed"], done["stopped"]) == (
        "SENT",
        1,
        1,
        1,
        1,
    )
