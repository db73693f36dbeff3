"""The web composer (SPEC §5): the preview quotes each locale's copy as the fan-out sends it,
"Send now" creates one announcement per draft key, and a scheduled announcement starts once,
within a minute of its time, whichever scheduler process claims it and whatever is
restarted; a cancelled one never starts; one that may not be sent at its time is refused
once, and the client told once; times are read in the client's time zone."""

from __future__ import annotations

import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from nudges_kit.sms_text import count_segments

if TYPE_CHECKING:
    from conftest import ClientAccount, Composing

PREVIEW = """query($t: String!) { previewAnnouncement(text: $t) {
  copies { locale text segments recipients } recipients totalSegments allowanceLeft
  planActive maxCharacters refusal } }"""
SEND = """mutation($t: String!, $k: String!) { sendAnnouncement(text: $t, idempotencyKey: $k) {
  id body recipients } }"""
SCHEDULE = """mutation($t: String!, $at: DateTime!, $tz: String!) {
  scheduleAnnouncement(text: $t, sendAt: $at, timeZone: $tz) {
    id body sendAt timeZone status announcementId } }"""
SCHEDULED = "{ scheduledAnnouncements { id body sendAt status refusal refusedAt } }"
SCHEDULE_IN_CLIENTS_ZONE = """mutation($t: String!, $at: DateTime!) {
  scheduleAnnouncement(text: $t, sendAt: $at) { id sendAt timeZone status } }"""
TIME_ZONE = """query($id: ID!, $b: String) { client(id: $id) {
  timeZone(browserTimeZone: $b) timeZoneSet } }"""
SET_TIME_ZONE = """mutation($id: ID!, $tz: String!) {
  updateClient(id: $id, input: {timeZone: $tz}) { id timeZone timeZoneSet } }"""
REFUSED = "user.scheduled-announcement.refused"
CANCEL = "mutation($id: ID!) { cancelScheduledAnnouncement(id: $id) { id status } }"

#: SPEC §5: a scheduled announcement starts within this many seconds of its time.
START_WITHIN = 60


def _preview(composing: Composing, client: ClientAccount, text: str) -> dict[str, Any]:
    return dict(composing.gql("user", PREVIEW, client.token, t=text)["previewAnnouncement"])


def _schedule(
    composing: Composing, client: ClientAccount, text: str, seconds_ahead: float, zone: str
) -> dict[str, Any]:
    """Schedule ``text`` for the wall-clock time ``seconds_ahead`` from now in ``zone``."""
    local = (datetime.now(ZoneInfo(zone)) + timedelta(seconds=seconds_ahead)).replace(tzinfo=None)
    created = composing.gql("user", SCHEDULE, client.token, t=text, at=local.isoformat(), tz=zone)[
        "scheduleAnnouncement"
    ]
    assert created["status"] == "SCHEDULED"
    assert created["timeZone"] == zone
    # The time as the client chose it, in their zone.
    sent_at = datetime.fromisoformat(created["sendAt"])
    assert sent_at.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == local
    return dict(created)


def _started(
    composing: Composing, client: ClientAccount, body: str, via: str = "user"
) -> list[dict[str, Any]]:
    return [a for a in composing.announcements(client, via) if a["body"] == body]


def _wait_started(
    composing: Composing, client: ClientAccount, body: str, send_at: str, via: str = "user"
) -> dict[str, Any]:
    due = datetime.fromisoformat(send_at)
    deadline = time.monotonic() + (due - datetime.now(UTC)).total_seconds() + START_WITHIN
    while not (found := _started(composing, client, body, via)):
        assert time.monotonic() < deadline, f"not started within {START_WITHIN} s of its time"
        time.sleep(0.2)
    confirmed = datetime.fromisoformat(found[0]["confirmedAt"])
    assert due <= confirmed <= due + timedelta(seconds=START_WITHIN)
    return found[0]


def test_preview_quotes_each_locales_copy_for_a_mixed_audience(composing: Composing) -> None:
    client = composing.client(messages_per_period=1000)
    composing.subscribers(client, "en", 3)
    composing.subscribers(client, "es", 2)
    composing.subscribers(client, "fr", 1)
    # First the frame each locale puts around a body, then a body that fits one segment in
    # the locale with the shortest frame and needs two in the others.
    frames = {c["locale"]: len(c["text"]) - 2 for c in _preview(composing, client, "Hi")["copies"]}
    assert set(frames) == {"en", "es", "fr"}
    assert len(set(frames.values())) > 1, frames
    body = "a" * (160 - min(frames.values()))
    preview = _preview(composing, client, body)

    copies = {c["locale"]: c for c in preview["copies"]}
    assert {k: c["recipients"] for k, c in copies.items()} == {"en": 3, "es": 2, "fr": 1}
    for copy in copies.values():
        assert body in copy["text"]
        assert client.name in copy["text"]
        assert copy["segments"] == count_segments(copy["text"]).segments
    assert {c["segments"] for c in copies.values()} == {1, 2}
    total = sum(c["recipients"] * c["segments"] for c in copies.values())
    assert preview["totalSegments"] == total > preview["recipients"] == 6
    assert preview["allowanceLeft"] == 1000
    assert preview["planActive"] is True
    assert preview["refusal"] is None
    assert preview["maxCharacters"] == 1600 - max(frames.values())


def test_preview_says_why_nothing_can_be_sent(composing: Composing) -> None:
    without_plan = composing.client(messages_per_period=None)
    composing.subscribers(without_plan, "en", 1)
    assert _preview(composing, without_plan, "Hello")["refusal"] == "NO_ACTIVE_PLAN"
    with pytest.raises(composing.Error) as refused:
        composing.gql("user", SEND, without_plan.token, t="Hello", k=uuid.uuid4().hex)
    assert refused.value.code == "CONFLICT"
    assert composing.announcements(without_plan) == []

    small = composing.client(messages_per_period=2)
    composing.subscribers(small, "en", 3)
    preview = _preview(composing, small, "Hello")
    assert (preview["totalSegments"], preview["refusal"]) == (3, "ALLOWANCE_EXCEEDED")


def test_send_now_twice_with_one_key_creates_one_announcement(composing: Composing) -> None:
    client = composing.client()
    composing.subscribers(client, "en", 2)
    key, body = uuid.uuid4().hex, f"Doors open at 9 {uuid.uuid4().hex[:6]}"

    def send(_: int) -> dict[str, Any]:
        return dict(composing.gql("user", SEND, client.token, t=body, k=key)["sendAnnouncement"])

    with ThreadPoolExecutor(4) as pool:  # a double (quadruple) click
        answers = list(pool.map(send, range(4)))
    assert len({a["id"] for a in answers}) == 1
    assert answers[0]["recipients"] == 2
    assert len(_started(composing, client, body)) == 1
    # A new draft (a new key) is a new announcement.
    composing.gql("user", SEND, client.token, t=body, k=uuid.uuid4().hex)
    assert len(_started(composing, client, body)) == 2


def test_a_scheduled_announcement_starts_once_after_its_time(composing: Composing) -> None:
    client = composing.client()
    composing.subscribers(client, "en", 1)
    body = f"Sale starts now {uuid.uuid4().hex[:6]}"
    created = _schedule(composing, client, body, 2.5, "America/Los_Angeles")
    listed = composing.gql("user", SCHEDULED, client.token)["scheduledAnnouncements"]
    assert [s["id"] for s in listed] == [created["id"]]
    assert _started(composing, client, body) == []

    _wait_started(composing, client, body, created["sendAt"])
    time.sleep(2)  # several rounds of both schedulers
    assert len(_started(composing, client, body)) == 1
    assert composing.gql("user", SCHEDULED, client.token)["scheduledAnnouncements"] == []
    with pytest.raises(composing.Error) as late:
        composing.gql("user", CANCEL, client.token, id=created["id"])
    assert late.value.code == "CONFLICT"


def test_schedules_start_once_while_schedulers_race_and_restart(composing: Composing) -> None:
    client = composing.client()
    composing.subscribers(client, "es", 1)
    bodies = [f"Race {i} {uuid.uuid4().hex[:6]}" for i in range(6)]
    created = [_schedule(composing, client, b, 2, "Europe/Madrid") for b in bodies]
    # One scheduler is killed around the time they are due, mid-round or not: the other
    # claims what it did not commit.
    time.sleep(1.8)
    composing.platform.kill_service("user", signal.SIGKILL)
    for body, schedule in zip(bodies, created, strict=True):
        _wait_started(composing, client, body, schedule["sendAt"], via=composing.replica)
    composing.platform.start_service("user")

    # Every process down while a schedule falls due: it starts once they are back.
    last = f"After the restart {uuid.uuid4().hex[:6]}"
    schedule = _schedule(composing, client, last, 2, "Asia/Tokyo")
    composing.platform.kill_service("user", signal.SIGKILL)
    composing.platform.kill_service(composing.replica, signal.SIGKILL)
    time.sleep(3)
    composing.platform.start_service("user")
    composing.platform.start_service(composing.replica)
    _wait_started(composing, client, last, schedule["sendAt"])

    time.sleep(2)
    for body in [*bodies, last]:
        assert len(_started(composing, client, body)) == 1, body


def test_a_cancelled_schedule_never_starts(composing: Composing) -> None:
    client = composing.client()
    composing.subscribers(client, "en", 1)
    body = f"Never mind {uuid.uuid4().hex[:6]}"
    created = _schedule(composing, client, body, 2, "UTC")
    canceled = composing.gql("user", CANCEL, client.token, id=created["id"])
    assert canceled["cancelScheduledAnnouncement"]["status"] == "CANCELED"
    assert composing.gql("user", SCHEDULED, client.token)["scheduledAnnouncements"] == []
    time.sleep(4)  # past its time, several rounds of both schedulers
    assert _started(composing, client, body) == []
    # Another client cannot see or cancel it.
    other = composing.client(messages_per_period=None)
    with pytest.raises(composing.Error) as hidden:
        composing.gql("user", CANCEL, other.token, id=created["id"])
    assert hidden.value.code == "NOT_FOUND"


def test_a_time_in_the_past_is_refused(composing: Composing) -> None:
    client = composing.client()
    composing.subscribers(client, "en", 1)
    with pytest.raises(composing.Error) as refused:
        _schedule(composing, client, "Too late", -60, "Europe/Paris")
    assert refused.value.code == "BAD_USER_INPUT"


def _refusals(composing: Composing, schedule_id: str) -> list[dict[str, Any]]:
    """The refusal events of the schedule published to ``user.announcements``."""
    found = composing.events("user.announcements", REFUSED)
    return [e for e in found if e["data"]["schedule_id"] == schedule_id]


def _listed(composing: Composing, client: ClientAccount, schedule_id: str) -> dict[str, Any]:
    listed = composing.gql("user", SCHEDULED, client.token)["scheduledAnnouncements"]
    return next(s for s in listed if s["id"] == schedule_id)


def test_a_schedule_the_allowance_no_longer_covers_is_refused_once_at_its_time(
    composing: Composing,
) -> None:
    client = composing.client(messages_per_period=3)
    composing.subscribers(client, "en", 1)
    body = f"Flash sale tonight {uuid.uuid4().hex[:6]}"
    created = _schedule(composing, client, body, 8, "Europe/Berlin")
    # Other announcements use the plan's SMS up before this one is due.
    composing.use_allowance(client, 3)
    deadline = time.monotonic() + 6
    while _preview(composing, client, body)["allowanceLeft"] > 0:
        assert time.monotonic() < deadline, "ProductApi did not record the usage in time"
        time.sleep(0.2)
    assert _listed(composing, client, created["id"])["status"] == "SCHEDULED"

    due = datetime.fromisoformat(created["sendAt"])
    deadline = time.monotonic() + (due - datetime.now(UTC)).total_seconds() + START_WITHIN
    while (listed := _listed(composing, client, created["id"]))["status"] == "SCHEDULED":
        assert time.monotonic() < deadline, f"not decided within {START_WITHIN} s of its time"
        time.sleep(0.2)
    assert listed["status"] == "REFUSED"
    assert listed["refusal"] == "ALLOWANCE_EXCEEDED"
    assert due <= datetime.fromisoformat(listed["refusedAt"])
    assert _started(composing, client, body) == []

    # One notice for the client, however many rounds both schedulers run after it.
    deadline = time.monotonic() + 15
    while not (notices := _refusals(composing, created["id"])):
        assert time.monotonic() < deadline, "no refusal notice published"
        time.sleep(0.3)
    time.sleep(2)
    assert len(_refusals(composing, created["id"])) == len(notices) == 1
    notice = notices[0]["data"]
    assert (notice["client_id"], notice["refusal"], notice["body"]) == (
        client.id,
        "allowance_exceeded",
        body,
    )
    assert _listed(composing, client, created["id"])["status"] == "REFUSED"
    assert _started(composing, client, body) == []
    with pytest.raises(composing.Error) as late:
        composing.gql("user", CANCEL, client.token, id=created["id"])
    assert late.value.code == "CONFLICT"


def test_a_schedule_due_while_productapi_is_down_waits_for_it(composing: Composing) -> None:
    client = composing.client()
    composing.subscribers(client, "en", 1)
    body = f"Market day {uuid.uuid4().hex[:6]}"
    created = _schedule(composing, client, body, 2, "America/Chicago")
    composing.platform.kill_service("product")
    try:
        time.sleep(4)  # past its time, several rounds of both schedulers
        listed = _listed(composing, client, created["id"])
        assert (listed["status"], listed["refusal"]) == ("SCHEDULED", None)
        assert _started(composing, client, body) == []
    finally:
        composing.platform.start_service("product")
    _wait_started(composing, client, body, created["sendAt"])
    time.sleep(2)
    assert len(_started(composing, client, body)) == 1
    assert _refusals(composing, created["id"]) == []


def test_the_clients_time_zone_defaults_to_their_numbers_and_can_be_set(
    composing: Composing,
) -> None:
    client = composing.client()  # a San Francisco number
    zone = composing.gql("user", TIME_ZONE, client.token, id=client.id, b="Asia/Tokyo")["client"]
    assert zone == {"timeZone": "America/Los_Angeles", "timeZoneSet": False}
    # A British mobile says nothing of its zone: the browser's, else UTC.
    mobile = composing.client(None, phone=f"+447700{uuid.uuid4().int % 10**6:06d}")
    asked = composing.gql("user", TIME_ZONE, mobile.token, id=mobile.id, b="Europe/London")
    assert asked["client"]["timeZone"] == "Europe/London"
    asked = composing.gql("user", TIME_ZONE, mobile.token, id=mobile.id, b="Nowhere/Else")
    assert asked["client"]["timeZone"] == "UTC"

    changed = composing.gql("user", SET_TIME_ZONE, client.token, id=client.id, tz="Europe/Paris")
    assert changed["updateClient"] == {
        "id": client.id,
        "timeZone": "Europe/Paris",
        "timeZoneSet": True,
    }
    admin = composing.issuer.token("admin-of-tests", "admin")
    seen = composing.gql("user", TIME_ZONE, admin, id=client.id, b=None)["client"]
    assert seen == {"timeZone": "Europe/Paris", "timeZoneSet": True}
    with pytest.raises(composing.Error) as unknown:
        composing.gql("user", SET_TIME_ZONE, client.token, id=client.id, tz="Europe/Atlantis")
    assert unknown.value.code == "BAD_USER_INPUT"
    assert unknown.value.errors[0]["extensions"].get("field") == "timeZone"
    other = composing.client(messages_per_period=None)
    with pytest.raises(composing.Error) as foreign:
        composing.gql("user", SET_TIME_ZONE, other.token, id=client.id, tz="Asia/Tokyo")
    assert foreign.value.code == "FORBIDDEN"

    # Without a zone, the time is read in the client's.
    local = (datetime.now(ZoneInfo("Europe/Paris")) + timedelta(hours=3)).replace(tzinfo=None)
    composing.subscribers(client, "en", 1)
    created = composing.gql(
        "user", SCHEDULE_IN_CLIENTS_ZONE, client.token, t="Paris time", at=local.isoformat()
    )["scheduleAnnouncement"]
    assert created["timeZone"] == "Europe/Paris"
    sent_at = datetime.fromisoformat(created["sendAt"])
    assert sent_at.astimezone(ZoneInfo("Europe/Paris")).replace(tzinfo=None) == local
    composing.gql("user", CANCEL, client.token, id=created["id"])

    reset = composing.gql("user", SET_TIME_ZONE, client.token, id=client.id, tz="")
    assert reset["updateClient"]["timeZone"] == "America/Los_Angeles"
    assert reset["updateClient"]["timeZoneSet"] is False
