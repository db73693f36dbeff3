"""dailyActivity: the dashboard's per-day series, counted in SQL over the whole range (no cap
on announcements or memberships), by calendar day in UTC or a given time zone."""

from __future__ import annotations

import uuid

from nudges_devstack.testing import SubgraphClient

DAILY = """query($from: Date!, $to: Date!, $c: ID, $tz: String! = "UTC") {
  dailyActivity(from: $from, to: $to, clientId: $c, timeZone: $tz) {
    day messagesSent messagesDelivered messagesFailed newSubscribers } }"""


def _client(api: SubgraphClient) -> tuple[str, str]:
    owner = api.person("client")
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "Daily", slug: $s}) { id } }',
        owner.token,
        s=f"daily-{uuid.uuid4().hex[:8]}",
    )
    return owner.subject, owner.token


def _announcements(api: SubgraphClient, client_id: str, at: str, count: int) -> None:
    """``count`` finished announcements completed at ``at``: 3 sent, 2 delivered, 1 failed each."""
    api.sql(
        "INSERT INTO announcements (id, client_id, body, status, recipients, sent, delivered,"
        " failed, created_at, confirmed_at, completed_at)"
        " SELECT gen_random_uuid(), %s, 'bulk', 'sent', 3, 3, 2, 1, %s::timestamptz - interval"
        " '1 hour', %s::timestamptz - interval '1 hour', %s FROM generate_series(1, %s)"
        " RETURNING 1",
        client_id,
        at,
        at,
        at,
        count,
    )


def _members(api: SubgraphClient, client_id: str, at: str, count: int) -> None:
    """``count`` subscribers who joined the client at ``at``."""
    api.sql(
        "WITH made AS (SELECT gen_random_uuid() AS id FROM generate_series(1, %s)),"
        " people AS (INSERT INTO users (id, phone_hash, phone_ciphertext)"
        "  SELECT id, 'bulk-' || id, 'x' FROM made RETURNING id),"
        " fans AS (INSERT INTO subscribers (id, user_id) SELECT id, id FROM people RETURNING id)"
        " INSERT INTO memberships (id, client_id, subscriber_id, status, joined_at)"
        " SELECT gen_random_uuid(), %s, id, 'active', %s FROM fans RETURNING 1",
        count,
        client_id,
        at,
    )


def test_the_series_counts_every_announcement_and_membership_per_day(api: SubgraphClient) -> None:
    client_id, client_token = _client(api)
    other_id, _ = _client(api)
    admin = api.person("admin").token
    # More than the 500 announcements and 1,000 memberships a browser page could read.
    _announcements(api, client_id, "2021-03-01T12:00:00Z", 600)
    _announcements(api, client_id, "2021-03-02T23:30:00Z", 1)
    _announcements(api, client_id, "2021-03-03T00:10:00Z", 2)
    _announcements(api, other_id, "2021-03-01T08:00:00Z", 5)
    _members(api, client_id, "2021-03-01T09:00:00Z", 1_100)
    _members(api, client_id, "2021-03-03T00:10:00Z", 4)
    _members(api, other_id, "2021-03-02T10:00:00Z", 7)
    span = {"from": "2021-02-28", "to": "2021-03-04"}

    own = api.ok(DAILY, admin, c=client_id, **span)["dailyActivity"]
    mine = api.ok(DAILY, client_token, **span)["dailyActivity"]
    everyone = api.ok(DAILY, admin, **span)["dailyActivity"]
    new_york = api.ok(DAILY, admin, c=client_id, tz="America/New_York", **span)["dailyActivity"]

    def row(day: str, sent: int, delivered: int, failed: int, joined: int) -> dict[str, object]:
        return {
            "day": day,
            "messagesSent": sent,
            "messagesDelivered": delivered,
            "messagesFailed": failed,
            "newSubscribers": joined,
        }

    assert own == [
        row("2021-02-28", 0, 0, 0, 0),
        row("2021-03-01", 1800, 1200, 600, 1100),
        row("2021-03-02", 3, 2, 1, 0),
        row("2021-03-03", 6, 4, 2, 4),
        row("2021-03-04", 0, 0, 0, 0),
    ]
    assert mine == own
    assert everyone == [
        row("2021-02-28", 0, 0, 0, 0),
        row("2021-03-01", 1815, 1210, 605, 1100),
        row("2021-03-02", 3, 2, 1, 7),
        row("2021-03-03", 6, 4, 2, 4),
        row("2021-03-04", 0, 0, 0, 0),
    ]
    # 00:10 UTC on 3 March is still 2 March in New York (UTC-5).
    assert new_york[2] == row("2021-03-02", 9, 6, 3, 4)
    assert new_york[3] == row("2021-03-03", 0, 0, 0, 0)


def test_the_series_refuses_what_it_cannot_answer(api: SubgraphClient) -> None:
    client_id, client_token = _client(api)
    other_id, _ = _client(api)
    admin = api.person("admin").token
    span = {"from": "2021-03-01", "to": "2021-03-02"}
    assert api.error_code(DAILY, client_token, c=other_id, **span) == "FORBIDDEN"
    assert api.ok(DAILY, client_token, c=client_id, **span)["dailyActivity"][0]["day"]
    assert api.error_code(DAILY, api.person("subscriber").token, **span) == "FORBIDDEN"
    assert api.error_code(DAILY, None, **span) == "UNAUTHENTICATED"
    bad = [
        {"from": "2021-03-02", "to": "2021-03-01"},
        {"from": "2020-01-01", "to": "2021-01-01"},
        {**span, "tz": "Mars/Olympus"},
    ]
    for variables in bad:
        assert api.error_code(DAILY, admin, **variables) == "BAD_USER_INPUT", variables
