"""Joining a client by text (SPEC §5): ``JOIN <slug>`` or the client's keyword starts a double
opt-in, ``YES`` makes the membership (source ``sms``) once, ``LANG`` sets the language. Texts
reach the Webhooks service through the Twilio emulator; UserApi, ProductApi, WarpCache and
LocalizationApi are the real services. YES and LANG are answered at once and published as
``sms.opt-ins`` events: their effects are awaited until UserApi has consumed them."""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import World

HOW_TO_JOIN = (
    "Nudges: to join someone, text JOIN and the name at the end of their Nudges address"
    " (e.g. JOIN bakery), or enter your number on their page."
)


def unique(name: str) -> str:
    """``name`` made unique (a client's address is made from its name)."""
    return f"{name} {uuid.uuid4().hex[:4]}"


def joined(name: str) -> str:
    return f"Nudges: confirmed, you joined {name}."


def test_join_names_the_client_how_often_they_text_help_and_stop_and_asks_for_yes(
    world: World,
) -> None:
    client = world.client(name=unique("Casa Lupita"))
    phone = world.phone()
    assert world.text(phone, f"JOIN {client.slug}") == (
        f"Nudges: reply YES to get texts from {client.name}. Up to 1,000 msgs/month. Msg & data"
        " rates may apply. Reply HELP for help, STOP to cancel."
    )
    # Only asked: nobody joined yet.
    assert world.members(client) == []
    assert world.memberships(phone) == []

    no_plan = world.client(name=unique("Yoga Bea"), messages_per_period=None)
    assert world.text(phone, f"join {no_plan.slug.upper()}") == (
        f"Nudges: reply YES to get texts from {no_plan.name}. Msg frequency varies. Msg & data"
        " rates may apply. Reply HELP for help, STOP to cancel."
    )


def test_yes_makes_one_membership_from_sms_however_often_it_comes(world: World) -> None:
    client = world.client(name=unique("Taller Mar"))
    phone = world.phone()
    world.text(phone, f"JOIN {client.slug}")

    assert world.text(phone, "yes") == joined(client.name)
    world.eventually(lambda: world.members(client), [("ACTIVE", "sms")])
    assert world.text(phone, "YES") == joined(client.name)
    assert world.members(client) == [("ACTIVE", "sms")]
    # One user.membership.joined: one welcome.
    assert world.joined_events(client) == 1
    # The number is now a subscriber like any other.
    assert world.text(phone, "HELP").startswith("Nudges: you get messages from the people")
    assert world.text(phone, "STOP").startswith("Nudges: you are unsubscribed")
    assert world.members(client) == [("STOPPED", "sms")]


def test_yes_with_nothing_pending_is_told_so(world: World) -> None:
    nothing = (
        "Nudges: there is nothing to confirm. To join someone, text JOIN and the name in their"
        " Nudges address, e.g. JOIN bakery."
    )
    assert world.text(world.phone(), "YES") == nothing
    # STOP drops a pending opt-in: the YES after it joins nobody.
    client = world.client()
    phone = world.phone()
    world.text(phone, f"JOIN {client.slug}")
    world.text(phone, "STOP")
    assert world.text(phone, "YES") == nothing
    assert world.members(client) == []


def test_an_unknown_name_gets_the_how_to_join_reply(world: World) -> None:
    phone = world.phone()
    assert world.text(phone, "JOIN nosuchclub") == HOW_TO_JOIN
    assert world.text(phone, "JOIN") == HOW_TO_JOIN
    # A subscriber too.
    subscriber = world.subscriber(world.client())
    assert world.text(subscriber, f"JOIN nosuch-{uuid.uuid4().hex[:6]}") == HOW_TO_JOIN


def test_the_language_comes_from_the_country_and_lang_changes_it(world: World) -> None:
    client = world.client(name=unique("Casa Lupita"))
    mexican = f"+5255{random.randint(0, 99_999_999):08d}"
    assert world.text(mexican, f"JOIN {client.slug}").startswith(
        f"Nudges: responde YES para recibir mensajes de {client.name}. Hasta 1.000 mensajes al mes."
    )

    phone = world.phone()
    assert world.text(phone, f"JOIN {client.slug}").startswith("Nudges: reply YES")
    assert world.text(phone, "LANG es") == "Nudges: te escribiremos en español."
    assert world.text(phone, "YES") == f"Nudges: confirmado, te has unido a {client.name}."
    world.eventually(lambda: world.locale_of(phone), "es")
    # A subscriber's LANG changes their profile (the language of every text to them).
    assert world.text(phone, "lang FR") == "Nudges : nous vous écrirons en français."
    world.eventually(lambda: world.locale_of(phone), "fr")
    assert world.text(phone, "LANG xx") == (
        "Nudges : envoyez LANG et l'une de ces langues : en, es, fr, de. Par exemple, LANG fr."
    )


def test_a_clients_own_keyword_starts_the_opt_in(world: World) -> None:
    client = world.client(name=unique("Pizza Palace"))
    word = f"Pz{uuid.uuid4().hex[:8]}"
    assert world.set_keyword(client, word) == {"data": {"updateClient": {"keyword": word.upper()}}}

    phone = world.phone()
    assert world.text(phone, word.lower()).startswith(
        f"Nudges: reply YES to get texts from {client.name}."
    )
    assert world.text(phone, "YES") == joined(client.name)
    other = world.phone()
    assert world.text(other, f"JOIN {word}").startswith(
        f"Nudges: reply YES to get texts from {client.name}"
    )
    assert world.text(other, "YES") == joined(client.name)
    world.eventually(lambda: world.members(client), [("ACTIVE", "sms"), ("ACTIVE", "sms")])

    # A client's own texts stay announcements, "Join us" and a word alone included.
    world.subscriber(client)
    assert world.text(client.phone, "Join us tonight").startswith("Reply CONFIRM to send")
    assert world.text(client.phone, word).startswith("Reply CONFIRM to send")


def test_a_keyword_is_unique_in_any_case_and_not_a_dialogue_word(world: World) -> None:
    first, second = world.client(), world.client()
    word = f"Kw{uuid.uuid4().hex[:8]}"
    assert "errors" not in world.set_keyword(first, word)
    taken = world.set_keyword(second, word.lower())
    assert taken["errors"][0]["extensions"]["code"] == "CONFLICT"
    for refused in ("STOP", "yes", "Join", "x", "two words", "a" * 21):
        answer = world.set_keyword(second, refused)
        assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", refused
        assert answer["errors"][0]["extensions"]["field"] == "keyword", refused
    # An empty keyword removes it: the word joins nobody any more.
    assert world.set_keyword(first, "") == {"data": {"updateClient": {"keyword": None}}}
    assert world.text(world.phone(), word).startswith("Nudges: this number is not subscribed")
