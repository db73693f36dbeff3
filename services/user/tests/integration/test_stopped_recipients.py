"""Recipients who text STOP between the confirmation and their copy: the sender asks who may
still be sent to, records the others as stopped, and the announcement completes when
delivered + failed + stopped reach its recipients."""

from __future__ import annotations

import uuid

from nudges_devstack.testing import SubgraphClient

CONFIRM = """mutation($c: ID!, $b: String!, $k: String!) {
  confirmAnnouncement(clientId: $c, body: $b, draftKey: $k) { id recipients } }"""
RECORD = """mutation($a: ID!, $s: ID!, $st: DeliveryStatus!, $p: String) {
  recordDelivery(announcementId: $a, subscriberId: $s, status: $st, providerMessageId: $p) {
    status sent delivered failed stopped completedAt } }"""
TO_SEND = """query($r: [_Any!]!, $s: [ID!]!) {
  _entities(representations: $r) { ... on Announcement { recipientsToSend(subscriberIds: $s) } }
}"""
AUDIENCE = """query($c: ID!, $a: ID) {
  announcementRecipients(clientId: $c, announcementId: $a) { recipients { subscriberId } } }"""


def test_stopped_recipients_are_held_back_counted_and_complete_the_announcement(
    api: SubgraphClient,
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

    ask = {"r": [{"__typename": "Announcement", "id": aid}], "s": [f.subject for f in fans]}
    to_send = api.ok(TO_SEND, service, **ask)["_entities"][0]["recipientsToSend"]
    assert sorted(to_send) == sorted(f.subject for f in fans[1:])
    assert api.error_code(TO_SEND, owner.token, **ask) == "FORBIDDEN"

    held = api.ok(RECORD, service, a=aid, s=stopped.subject, st="STOPPED")["recordDelivery"]
    assert (held["status"], held["stopped"], held["completedAt"]) == ("SENDING", 1, None)
    # Recorded once: a repeat changes nothing, and a held-back copy is never sent later.
    again = api.ok(RECORD, service, a=aid, s=stopped.subject, st="STOPPED")["recordDelivery"]
    assert again["stopped"] == 1
    api.ok("mutation($s: String!) { joinClient(slug: $s) { id } }", stopped.token, s=slug)
    to_send = api.ok(TO_SEND, service, **ask)["_entities"][0]["recipientsToSend"]
    assert stopped.subject not in to_send
    # A copy that went to Twilio is not "stopped" afterwards.
    api.ok(RECORD, service, a=aid, s=fans[1].subject, st="QUEUED", p=f"SM{uuid.uuid4().hex}")
    after_send = api.ok(RECORD, service, a=aid, s=fans[1].subject, st="STOPPED")
    assert after_send["recordDelivery"]["stopped"] == 1

    api.ok(RECORD, service, a=aid, s=fans[1].subject, st="DELIVERED")
    done = api.ok(RECORD, service, a=aid, s=fans[2].subject, st="FAILED")["recordDelivery"]
    assert (done["status"], done["sent"], done["delivered"], done["failed"], done["stopped"]) == (
        "SENT",
        1,
        1,
        1,
        1,
    )
    assert done["completedAt"] is not None
