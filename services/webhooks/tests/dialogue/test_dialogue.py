"""The SMS dialogue end to end: texts reach the Webhooks service through the Twilio emulator
exactly as Twilio sends them (signed), and the TwiML replies come back in the sender's
language. UserApi, ProductApi, WarpCache and LocalizationApi are the real services."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from twilio.request_validator import RequestValidator

from nudges_webhooks.entrypoints.http import build_app
from nudges_webhooks.settings import WebhooksSettings

if TYPE_CHECKING:
    from conftest import World


def test_a_clients_text_becomes_a_draft_and_confirm_creates_the_announcement_once(
    world: World,
) -> None:
    client = world.client()
    for _ in range(3):
        world.subscriber(client)

    started = time.monotonic()
    draft = world.text(client.phone, "Doors open at 9 tomorrow, first 20 get a free coffee!")
    assert time.monotonic() - started < 1.0, "the reply must be quick (Twilio waits 15 s)"
    assert draft == (
        "Reply CONFIRM to send this message to 3 subscribers (3 SMS in all), or CANCEL to"
        " discard it."
    )
    assert world.announcements(client) == []

    assert world.text(client.phone, " confirm ") == "Sent to 3 subscribers."
    assert world.text(client.phone, "CONFIRM") == (
        'Already confirmed: "Doors open at 9 tomorrow, first..." is being sent to 3 subscribers.'
    )
    [announcement] = world.announcements(client)
    assert announcement["body"] == "Doors open at 9 tomorrow, first 20 get a free coffee!"
    assert announcement["recipients"] == 3
    assert announcement["status"] == "CONFIRMED"


def test_two_confirms_at_once_send_one_announcement(world: World) -> None:
    client = world.client()
    world.subscriber(client)
    world.text(client.phone, "Flash sale tonight")
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda _: world.text(client.phone, "CONFIRM"), range(2)))
    # Only one of them takes the draft; the other finds none (or, later, the confirmed one).
    assert replies.count("Sent to 1 subscriber.") == 1
    [other] = [r for r in replies if r != "Sent to 1 subscriber."]
    assert other.startswith(("There is no message waiting", "Already confirmed")), other
    assert len(world.announcements(client)) == 1


def test_the_segment_count_is_of_the_whole_announcement_as_sent(world: World) -> None:
    client = world.client(name="Casa Lupita")
    world.subscriber(client)
    # "Casa Lupita: " + 140 characters + "\nReply STOP to unsubscribe" is over 160: two parts.
    assert "(2 SMS in all)" in world.text(client.phone, "x" * 140)
    # 73 GSM-7 characters in all fit one SMS; an emoji makes the whole text UCS-2, where 75
    # units are over the 70 of a single part.
    assert "(1 SMS in all)" in world.text(client.phone, "Party tonight, bring your friends!")
    assert "(2 SMS in all)" in world.text(client.phone, "Party tonight, bring your friends 🎉")
    # "Casa Lupita: " and "\nReply STOP to unsubscribe" leave 1600 - 13 - 26 characters.
    assert world.text(client.phone, "y" * 1600) == (
        "Nudges: this message is too long to send. Keep it to 1,561 characters or fewer."
    )
    assert world.text(client.phone, "CONFIRM").startswith("There is no message waiting")


def test_cancel_discards_the_draft(world: World) -> None:
    client = world.client()
    world.subscriber(client)
    world.text(client.phone, "Closed on Monday")
    assert world.text(client.phone, "Cancel") == "Canceled. Your message was not sent."
    assert world.text(client.phone, "CONFIRM") == (
        "There is no message waiting to be confirmed. Text your announcement first, then reply"
        " CONFIRM."
    )
    assert world.announcements(client) == []


def test_a_new_text_replaces_the_waiting_draft(world: World) -> None:
    client = world.client()
    world.subscriber(client)
    world.text(client.phone, "First version")
    world.text(client.phone, "Second version")
    assert world.text(client.phone, "CONFIRM") == "Sent to 1 subscriber."
    assert [a["body"] for a in world.announcements(client)] == ["Second version"]


def test_confirm_without_a_draft(world: World) -> None:
    client = world.client()
    assert world.text(client.phone, "CONFIRM").startswith("There is no message waiting")


def test_stop_and_start_from_a_subscriber(world: World) -> None:
    first, second = world.client(), world.client()
    phone = world.subscriber(first)
    world.subscriber(second, phone=phone)
    assert world.memberships(phone) == ["active", "active"]

    stopped = world.text(phone, "  stop ")
    assert stopped == (
        "Nudges: you are unsubscribed and will receive no more messages. Reply START to"
        " subscribe again."
    )
    assert world.memberships(phone) == ["stopped", "stopped"]

    assert world.text(phone, "START").startswith("Nudges: you are subscribed again.")
    assert world.memberships(phone) == ["active", "active"]

    for word in ("STOPALL", "unsubscribe", "End", "QUIT", "cancel"):
        assert world.text(phone, word) == stopped, word
        assert world.memberships(phone) == ["stopped", "stopped"], word
        assert world.text(phone, "unstop").startswith("Nudges: you are subscribed again.")


def test_a_client_who_is_also_a_subscriber(world: World) -> None:
    """STOP-family words always stop memberships; CANCEL cancels a waiting draft instead."""
    other = world.client()
    client = world.client()
    world.subscriber(client)
    world.subscriber(other, phone=client.phone)

    world.text(client.phone, "Draft to cancel")
    assert world.text(client.phone, "CANCEL") == "Canceled. Your message was not sent."
    assert world.memberships(client.phone) == ["active"]
    assert world.text(client.phone, "CANCEL").startswith("Nudges: you are unsubscribed")
    assert world.memberships(client.phone) == ["stopped"]

    world.text(client.phone, "START")
    world.text(client.phone, "Draft dropped by STOP")
    assert world.text(client.phone, "STOP").startswith("Nudges: you are unsubscribed")
    assert world.memberships(client.phone) == ["stopped"]
    assert world.text(client.phone, "CONFIRM").startswith("There is no message waiting")


def test_help_for_subscribers_and_for_clients(world: World) -> None:
    client = world.client()
    phone = world.subscriber(client)
    assert world.text(phone, "help").startswith("Nudges: you get messages from the people")
    assert world.text(phone, "What is this?").startswith("Nudges: you get messages from")
    assert world.text(client.phone, "HELP").startswith("Nudges: text your announcement")


def test_an_unknown_number_is_told_how_to_join(world: World) -> None:
    phone = world.phone()
    how_to_join = (
        "Nudges: this number is not subscribed to anyone yet. To join, open the Nudges page of"
        " the person you want to hear from and enter your phone number."
    )
    assert world.text(phone, "Hello?") == how_to_join
    assert world.text(phone, "START") == how_to_join
    assert world.text(phone, "HELP").startswith("Nudges: you get messages from")
    # Carrier rules: STOP is always confirmed.
    assert world.text(phone, "STOP").startswith("Nudges: you are unsubscribed")


def test_a_client_without_an_active_plan_cannot_send(world: World) -> None:
    client = world.client(messages_per_period=None)
    world.subscriber(client)
    no_plan = world.text(client.phone, "Anyone there?")
    assert no_plan.startswith("You don't have an active Nudges plan")
    assert world.text(client.phone, "CONFIRM").startswith("There is no message waiting")
    assert world.announcements(client) == []


def test_past_due_a_client_sends_for_the_grace_period_and_is_told_the_days_left(
    world: World,
) -> None:
    in_grace = world.client()
    lapsed = world.client()
    for client in (in_grace, lapsed):
        world.subscriber(client)
    world.fail_renewal(in_grace.id, days_ago=2.5)
    world.fail_renewal(lapsed.id, days_ago=7.5)

    draft = world.text(in_grace.phone, "Open late tonight")
    sent = world.text(in_grace.phone, "CONFIRM")
    no_plan = world.text(lapsed.phone, "Open late tonight")

    assert draft == (
        "Reply CONFIRM to send this message to 1 subscriber (1 SMS in all), or CANCEL to discard"
        " it. Your last payment failed: you can keep sending for 5 more days. Update your payment"
        " method in your Nudges account."
    )
    assert sent == "Sent to 1 subscriber."
    assert no_plan.startswith("You don't have an active Nudges plan")
    assert world.announcements(lapsed) == []


def test_a_client_without_subscribers_is_told_so(world: World) -> None:
    client = world.client()
    assert world.text(client.phone, "Hello world").startswith("You have no subscribers yet")


def test_past_the_allowance_nothing_is_sent_and_nothing_kept(world: World) -> None:
    client = world.client(messages_per_period=5)
    for _ in range(3):
        world.subscriber(client)
    draft = world.text(client.phone, "z" * 200)
    assert draft.startswith("Reply CONFIRM to send this message to 3 subscribers (6 SMS in all)")
    assert world.text(client.phone, "CONFIRM") == (
        "Not sent: your plan has 5 messages left this billing period and this announcement"
        " needs 6. Upgrade your plan or wait for the next period."
    )
    assert world.announcements(client) == []
    assert world.text(client.phone, "CONFIRM").startswith("There is no message waiting")
    # A shorter text fits: 3 subscribers x 1 segment.
    world.text(client.phone, "Short one")
    assert world.text(client.phone, "CONFIRM") == "Sent to 3 subscribers."


def test_spanish_speakers_get_spanish_replies(world: World) -> None:
    client = world.client(locale="es")
    world.subscriber(client, locale="es")
    world.subscriber(client, locale="en")
    assert world.text(client.phone, "Mañana abrimos a las 9") == (
        "Responde CONFIRM para enviar este mensaje a 2 suscriptores (2 SMS en total), o CANCEL"
        " para descartarlo."
    )
    assert world.text(client.phone, "CONFIRM") == "Enviado a 2 suscriptores."
    assert world.text(client.phone, "CANCEL").startswith("Nudges: te has dado de baja")

    assert world.text(client.phone, "y" * 1600).startswith(
        "Nudges: este mensaje es demasiado largo para enviarlo. Usa "
    )

    subscriber = world.subscriber(world.client(), locale="es")
    assert world.text(subscriber, "HELP").startswith(
        "Nudges: recibes mensajes de las personas a las que te has suscrito."
    )
    assert world.text(subscriber, "STOP") == (
        "Nudges: te has dado de baja y no recibirás más mensajes. Responde START para volver a"
        " suscribirte."
    )


def test_a_dependency_failure_gets_a_try_again_reply_not_an_error(
    settings: WebhooksSettings,
) -> None:
    nowhere = settings.model_copy(
        update={
            "user_url": "http://127.0.0.1:1/graphql",
            "auth_token_url": "http://127.0.0.1:1/auth/token",
            "localization_url": "127.0.0.1:1",
        }
    )
    params = {"From": "+14155550123", "Body": "Big news", "MessageSid": "SMtest"}
    url = "http://testserver/webhooks/twilio/sms"
    signature = RequestValidator("twilio-test-token").compute_signature(url, params)
    with TestClient(build_app(nowhere)) as webhooks:
        started = time.monotonic()
        answer = webhooks.post(
            "/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}
        )
        elapsed = time.monotonic() - started
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert "<Response><Message>" in answer.text
    assert "try again" in answer.text
    assert elapsed < 5


def _renders(world: World, key: str) -> float:
    """LocalizationApi's count of texts rendered for ``key``."""
    metrics = httpx.get(world.platform.url("localization", "/metrics"), timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "nudges_localization_renders_total" and sample.labels.get("key") == key
    )


def _text_through(webhooks: TestClient, sender: str, body: str) -> str:
    params = {"From": sender, "Body": body, "MessageSid": "SMtest"}
    url = "http://testserver/webhooks/twilio/sms"
    signature = RequestValidator("twilio-test-token").compute_signature(url, params)
    answer = webhooks.post(
        "/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert answer.status_code == 200
    return answer.text


def test_the_try_again_reply_comes_from_localization_api_when_it_answers(
    world: World, settings: WebhooksSettings
) -> None:
    without_user_api = settings.model_copy(
        update={
            "user_url": "http://127.0.0.1:1/graphql",
            "auth_token_url": "http://127.0.0.1:1/auth/token",
            "localization_url": world.platform.grpc("localization"),
        }
    )
    before = _renders(world, "dialogue.try_again")
    with TestClient(build_app(without_user_api)) as webhooks:
        reply = _text_through(webhooks, "+14155550123", "Big news")
    assert (
        "<Response><Message>Nudges: sorry, something went wrong on our side. Please try again"
        " soon.</Message></Response>"
    ) in reply
    assert _renders(world, "dialogue.try_again") - before == 1


NOTHING_TO_CONFIRM = (
    "There is no message waiting to be confirmed. Text your announcement first, then reply CONFIRM."
)


def test_confirm_after_a_refused_text_has_nothing_to_confirm(world: World) -> None:
    client = world.client()
    for _ in range(4):
        world.subscriber(client)
    world.text(client.phone, "Doors open at 9 tomorrow")
    assert world.text(client.phone, "CONFIRM") == "Sent to 4 subscribers."
    # The client's next text is refused: its CONFIRM is about that text, not the one sent.
    assert world.text(client.phone, "y" * 1600).startswith("Nudges: this message is too long")
    assert world.text(client.phone, "CONFIRM") == NOTHING_TO_CONFIRM
    assert len(world.announcements(client)) == 1


def test_a_repeated_confirm_names_the_message_being_sent(world: World) -> None:
    client = world.client()
    world.subscriber(client)
    world.text(client.phone, "Doors open at 9 tomorrow, first 20 get a free coffee!")
    assert world.text(client.phone, "CONFIRM") == "Sent to 1 subscriber."
    assert world.text(client.phone, "confirm") == (
        'Already confirmed: "Doors open at 9 tomorrow, first..." is being sent to 1 subscriber.'
    )
    # Cancelling (nothing waits) or texting anew ends the repeat window.
    world.text(client.phone, "Second one")
    world.text(client.phone, "CANCEL")
    assert world.text(client.phone, "CONFIRM") == NOTHING_TO_CONFIRM


def test_already_confirmed_only_within_the_window_of_that_confirmation(world: World) -> None:
    client = world.client()
    world.subscriber(client)
    world.text(client.phone, "Window sale")
    assert world.text(client.phone, "CONFIRM") == "Sent to 1 subscriber."
    assert world.text(client.phone, "CONFIRM").startswith('Already confirmed: "Window sale"')
    time.sleep(world.confirmed_window_seconds + 0.5)
    assert world.text(client.phone, "CONFIRM") == NOTHING_TO_CONFIRM


def test_the_quote_counts_each_subscribers_copy_in_their_language(world: World) -> None:
    """Copies differ by their opt-out line: 120 characters from "Casa Pepita" make a 159
    character English copy (1 SMS) but a 166 character Spanish and a 169 character French one
    (2 SMS each). Two English, one Spanish and one French subscriber: 6 SMS, not 4."""
    client = world.client(name="Casa Pepita", messages_per_period=5)
    for locale in ("en", "es", "en", "fr"):
        world.subscriber(client, locale=locale)
    assert world.text(client.phone, "x" * 120) == (
        "Reply CONFIRM to send this message to 4 subscribers (6 SMS in all), or CANCEL to"
        " discard it."
    )
    assert world.text(client.phone, "CONFIRM") == (
        "Not sent: your plan has 5 messages left this billing period and this announcement"
        " needs 6. Upgrade your plan or wait for the next period."
    )
    assert world.announcements(client) == []
    # Every copy fits one SMS: 4 in all, within the allowance.
    assert world.text(client.phone, "x" * 100) == (
        "Reply CONFIRM to send this message to 4 subscribers (4 SMS in all), or CANCEL to"
        " discard it."
    )
    assert world.text(client.phone, "CONFIRM") == "Sent to 4 subscribers."


def test_a_copy_in_another_language_must_fit_too(world: World) -> None:
    """The French copy is the longest ("Casa Pepito : " and "Répondez STOP pour vous
    désabonner"): the limit is what fits in it, 1600 - 14 - 35 characters."""
    client = world.client(name="Casa Pepito")
    world.subscriber(client, locale="fr")
    assert world.text(client.phone, "y" * 1555) == (
        "Nudges: this message is too long to send. Keep it to 1,551 characters or fewer."
    )
