"""Deliveries recorded by UserApi's own consumer from the sender's outcomes and Twilio's
status callbacks, whatever their order: a callback that overtakes the outcome is parked and
applied, a regression (sent after delivered) changes nothing, a redelivered outcome counts
once, and the completion is decided once, publishing ``user.announcement.completed`` with
the segments sent. A copy held for quiet hours counts as ``held`` and is not final."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nudges_devstack.testing import SubgraphClient
from nudges_kit.events.catalog import providers, sms

if TYPE_CHECKING:
    from conftest import Publish

CONFIRM = """mutation($c: ID!, $b: String!, $k: String!) {
  confirmAnnouncement(clientId: $c, body: $b, draftKey: $k) { id } }"""
COUNTS = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Announcement {
  status recipients sent delivered failed stopped held completedAt } } }"""


def wait_for(check: Callable[[], Any], within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"not within {within}s: {found!r}"
        time.sleep(0.1)


def announcement_with(api: SubgraphClient, members: int) -> tuple[str, str, list[str]]:
    """A client with ``members`` subscribers and an announcement confirmed to them."""
    owner = api.person("client")
    slug = f"deli-{uuid.uuid4().hex[:8]}"
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "Deli", slug: $s}) { id } }',
        owner.token,
        s=slug,
    )
    fans = []
    for _ in range(members):
        fan = api.person("subscriber")
        api.ok("mutation($s: String!) { joinClient(slug: $s) { id } }", fan.token, s=slug)
        fans.append(fan.subject)
    aid = api.ok(CONFIRM, api.service_token(), c=owner.subject, b="Soup", k=str(uuid.uuid4()))
    return owner.subject, aid["confirmAnnouncement"]["id"], fans


def counts(api: SubgraphClient, aid: str) -> dict[str, Any]:
    found = api.ok(COUNTS, api.service_token(), r=[{"__typename": "Announcement", "id": aid}])
    return dict(found["_entities"][0])


def status(publish: Publish, sid: str, value: str, error_code: str | None = None) -> uuid.UUID:
    data = providers.TwilioStatusData(message_sid=sid, status=value, error_code=error_code)
    return publish(providers.twilio_status, sid, data)


def handled(api: SubgraphClient, *event_ids: uuid.UUID) -> bool:
    found = api.sql("SELECT count(*) FROM handled_events WHERE event_id = ANY(%s)", list(event_ids))
    return bool(found[0][0] == len(event_ids))


def test_outcomes_and_callbacks_in_any_order_count_once_and_complete_once(
    api: SubgraphClient, publish: Publish
) -> None:
    client_id, aid, fans = announcement_with(api, 4)
    sids = [f"SM{uuid.uuid4().hex}" for _ in range(2)]
    # The callback of a send whose outcome is not published yet (the sender's answer from
    # Twilio was lost, the send found at Twilio later): parked in userdb.
    status(publish, sids[0], "delivered")
    parked = "SELECT status FROM early_statuses WHERE provider_message_id = %s"
    wait_for(lambda: api.sql(parked, sids[0]))

    outcomes = sms.AnnouncementOutcomesData(
        announcement_id=uuid.UUID(aid),
        client_id=uuid.UUID(client_id),
        outcomes=[
            sms.SendOutcome(
                subscriber_id=fans[0], outcome="queued", message_sid=sids[0], segments=1
            ),
            sms.SendOutcome(
                subscriber_id=fans[1], outcome="queued", message_sid=sids[1], segments=2
            ),
            sms.SendOutcome(subscriber_id=fans[2], outcome="failed", error_code="21211"),
            sms.SendOutcome(subscriber_id=fans[3], outcome="held_back"),
        ],
    )
    publish(sms.announcement_outcomes, aid, outcomes)
    wait_for(lambda: counts(api, aid)["delivered"] == 1)
    assert api.sql(parked, sids[0]) == []
    assert counts(api, aid)["completedAt"] is None

    status(publish, sids[1], "delivered")
    done = wait_for(lambda: (c := counts(api, aid))["completedAt"] and c)
    # Regressions and repeats, then the same outcomes again (a sender redelivering them).
    late = [
        status(publish, sids[1], "sent"),
        status(publish, sids[0], "undelivered", "30003"),
        publish(sms.announcement_outcomes, aid, outcomes),
    ]
    wait_for(lambda: handled(api, *late))

    assert counts(api, aid) == done
    assert (done["status"], done["recipients"], done["sent"]) == ("SENT", 4, 2)
    assert (done["delivered"], done["failed"], done["stopped"]) == (2, 1, 1)
    rows = api.sql(
        "SELECT subscriber_id::text, provider_message_id, status, error_code, segments"
        " FROM deliveries WHERE announcement_id = %s",
        aid,
    )
    assert sorted(rows) == sorted(
        [
            (fans[0], sids[0], "delivered", None, 1),
            (fans[1], sids[1], "delivered", None, 2),
            (fans[2], None, "failed", "21211", None),
            (fans[3], None, "stopped", None, None),
        ]
    )
    completed = api.sql(
        "SELECT payload->'data' FROM outbox WHERE key = %s AND event_type = %s",
        aid,
        "user.announcement.completed",
    )
    assert len(completed) == 1
    data = completed[0][0]
    assert (data["segments"], data["sent"], data["delivered"], data["failed"]) == (3, 2, 2, 1)
    assert (data["stopped"], data["recipients"], data["client_id"]) == (1, 4, client_id)


def test_an_announcement_whose_every_copy_fails_completes_as_failed(
    api: SubgraphClient, publish: Publish
) -> None:
    client_id, aid, fans = announcement_with(api, 2)
    sid = f"SM{uuid.uuid4().hex}"
    publish(
        sms.announcement_outcomes,
        aid,
        sms.AnnouncementOutcomesData(
            announcement_id=uuid.UUID(aid),
            client_id=uuid.UUID(client_id),
            outcomes=[
                sms.SendOutcome(subscriber_id=fans[0], outcome="queued", message_sid=sid),
                sms.SendOutcome(subscriber_id=fans[1], outcome="failed", error_code="21610"),
            ],
        ),
    )
    status(publish, sid, "undelivered", "30005")
    done = wait_for(lambda: (c := counts(api, aid))["completedAt"] and c)
    assert (done["status"], done["sent"], done["delivered"], done["failed"]) == ("FAILED", 0, 0, 2)
    completed = api.sql(
        "SELECT payload->'data'->'segments' FROM outbox WHERE key = %s AND event_type = %s",
        aid,
        "user.announcement.completed",
    )
    assert completed == [(0,)]


def test_late_callbacks_keep_the_segments_and_error_code_already_recorded(
    api: SubgraphClient, publish: Publish
) -> None:
    client_id, aid, fans = announcement_with(api, 2)
    sids = [f"SM{uuid.uuid4().hex}" for _ in range(2)]
    parked = "SELECT count(*) FROM early_statuses WHERE provider_message_id = %s"
    # Both callbacks of the first copy overtake its outcome, the later status first.
    status(publish, sids[0], "delivered")
    wait_for(lambda: api.sql(parked, sids[0]) == [(1,)])
    status(publish, sids[0], "sent")
    wait_for(lambda: api.sql(parked, sids[0]) == [(2,)])
    publish(
        sms.announcement_outcomes,
        aid,
        sms.AnnouncementOutcomesData(
            announcement_id=uuid.UUID(aid),
            client_id=uuid.UUID(client_id),
            outcomes=[
                sms.SendOutcome(subscriber_id=s, outcome="queued", message_sid=m, segments=2)
                for s, m in zip(fans, sids, strict=True)
            ],
        ),
    )
    wait_for(lambda: counts(api, aid)["delivered"] == 1)
    # The second copy fails at the carrier, then its "sent" arrives late.
    status(publish, sids[1], "undelivered", "30003")
    done = wait_for(lambda: (c := counts(api, aid))["completedAt"] and c)
    late = status(publish, sids[1], "sent")
    wait_for(lambda: handled(api, late))

    assert counts(api, aid) == done
    assert (done["sent"], done["delivered"], done["failed"]) == (1, 1, 1)
    rows = api.sql(
        "SELECT subscriber_id::text, status, error_code, segments FROM deliveries"
        " WHERE announcement_id = %s",
        aid,
    )
    assert sorted(rows) == sorted(
        [(fans[0], "delivered", None, 2), (fans[1], "undelivered", "30003", 2)]
    )
    completed = api.sql(
        "SELECT payload->'data'->'segments' FROM outbox WHERE key = %s AND event_type = %s",
        aid,
        "user.announcement.completed",
    )
    assert completed == [(4,)]


HELD_UNTIL = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)


def outcomes(aid: str, client_id: str, *each: sms.SendOutcome) -> sms.AnnouncementOutcomesData:
    return sms.AnnouncementOutcomesData(
        announcement_id=uuid.UUID(aid), client_id=uuid.UUID(client_id), outcomes=list(each)
    )


def test_a_held_copy_counts_as_held_and_the_announcement_completes_once_it_is_out(
    api: SubgraphClient, publish: Publish
) -> None:
    client_id, aid, fans = announcement_with(api, 3)
    sids = [f"SM{uuid.uuid4().hex}" for _ in range(2)]
    first = outcomes(
        aid,
        client_id,
        sms.SendOutcome(subscriber_id=fans[0], outcome="queued", message_sid=sids[0], segments=1),
        sms.SendOutcome(subscriber_id=fans[1], outcome="held", held_until=HELD_UNTIL),
        sms.SendOutcome(subscriber_id=fans[2], outcome="held", held_until=HELD_UNTIL),
    )
    publish(sms.announcement_outcomes, aid, first)
    status(publish, sids[0], "delivered")
    waiting = wait_for(lambda: (c := counts(api, aid))["delivered"] == 1 and c)
    assert (waiting["held"], waiting["status"], waiting["completedAt"]) == (2, "SENDING", None)

    # 08:00 at the recipients': one copy goes, the other's subscriber stopped overnight.
    morning = outcomes(
        aid,
        client_id,
        sms.SendOutcome(subscriber_id=fans[1], outcome="queued", message_sid=sids[1], segments=1),
        sms.SendOutcome(subscriber_id=fans[2], outcome="held_back"),
    )
    publish(sms.announcement_outcomes, aid, morning)
    released = wait_for(lambda: (c := counts(api, aid))["held"] == 0 and c)
    assert (released["stopped"], released["completedAt"]) == (1, None)

    status(publish, sids[1], "delivered")
    done = wait_for(lambda: (c := counts(api, aid))["completedAt"] and c)
    assert (done["delivered"], done["stopped"], done["held"], done["status"]) == (2, 1, 0, "SENT")
    # A hold published again (a redelivery) changes nothing once the copy went.
    again = publish(sms.announcement_outcomes, aid, first)
    wait_for(lambda: handled(api, again))
    assert counts(api, aid) == done
    completed = api.sql(
        "SELECT count(*) FROM outbox WHERE key = %s AND event_type = %s",
        aid,
        "user.announcement.completed",
    )
    assert completed[0][0] == 1
