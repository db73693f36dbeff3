"""Joining a client by text, without I/O: how JOIN, YES, LANG and a keyword alone are read,
what they do for whom, the language a number's country reads, and how often a plan texts."""

from __future__ import annotations

import pytest

from nudges_webhooks.domain.dialogue import (
    Action,
    Command,
    Frequency,
    Keyword,
    OptIn,
    Sender,
    action_for,
    client_keyword_in,
    frequency_of,
    language_in,
    locale_for_number,
    parse,
    when_no_client_matches,
)

LOCALES = ("en", "es", "fr", "de")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("JOIN bakery", Command(Keyword.JOIN, "bakery")),
        ("  join   Casa-Lupita \n", Command(Keyword.JOIN, "Casa-Lupita")),
        ("JOIN", Command(Keyword.JOIN, None)),
        ("Join us tonight at 8", Command(None)),
        ("yes", Command(Keyword.YES)),
        (" Yes ", Command(Keyword.YES)),
        ("yes please", Command(None)),
        ("LANG es", Command(Keyword.LANG, "es")),
        ("lang ES-mx", Command(Keyword.LANG, "ES-mx")),
        ("Lang", Command(Keyword.LANG, None)),
        ("stop", Command(Keyword.STOP)),
        ("PIZZA", Command(None)),
    ],
)
def test_join_yes_and_lang_are_read_in_any_case_with_one_word_after(
    text: str, command: Command
) -> None:
    assert parse(text) == command


def test_join_yes_and_lang_work_from_anyone() -> None:
    for sender in Sender:
        assert action_for(Keyword.JOIN, sender) is Action.JOIN
        assert action_for(Keyword.YES, sender) is Action.ACCEPT_OPT_IN
        assert action_for(Keyword.LANG, sender) is Action.SET_LANGUAGE


def test_a_word_alone_may_be_a_clients_keyword_except_from_a_client() -> None:
    assert client_keyword_in(" PIZZA ") == "PIZZA"
    assert client_keyword_in("pizza2go") == "pizza2go"
    assert client_keyword_in("big sale") is None
    assert client_keyword_in("x") is None
    assert client_keyword_in("a" * 21) is None
    assert action_for(None, Sender.UNKNOWN, single_word=True) is Action.JOIN_BY_KEYWORD
    assert action_for(None, Sender.SUBSCRIBER, single_word=True) is Action.JOIN_BY_KEYWORD
    # A client's one word is their announcement.
    assert action_for(None, Sender.CLIENT, single_word=True) is Action.DRAFT
    assert action_for(None, Sender.UNKNOWN) is Action.HOW_TO_JOIN


def test_when_no_client_has_the_name() -> None:
    assert when_no_client_matches(Action.JOIN, Sender.UNKNOWN) is Action.HOW_TO_JOIN
    assert when_no_client_matches(Action.JOIN, Sender.SUBSCRIBER) is Action.HOW_TO_JOIN
    # "Join us tomorrow" from a client is their draft.
    assert when_no_client_matches(Action.JOIN, Sender.CLIENT) is Action.DRAFT
    assert when_no_client_matches(Action.JOIN_BY_KEYWORD, Sender.UNKNOWN) is Action.HOW_TO_JOIN
    assert (
        when_no_client_matches(Action.JOIN_BY_KEYWORD, Sender.SUBSCRIBER) is Action.SUBSCRIBER_HELP
    )


@pytest.mark.parametrize(
    ("number", "locale"),
    [
        ("+14155550123", "en"),
        ("+5215512345678", "es"),
        ("+34612345678", "es"),
        ("+33612345678", "fr"),
        ("+4915123456789", "de"),
        ("+41791234567", "de"),
        ("+3225551234", "fr"),  # Belgium: Dutch first, French the first supported
        ("+393123456789", "en"),  # Italian: not supported, English
    ],
)
def test_a_numbers_language_is_its_countrys_among_the_supported(number: str, locale: str) -> None:
    assert locale_for_number(number, LOCALES) == locale


def test_lang_takes_a_supported_language_code() -> None:
    assert language_in("es", LOCALES) == "es"
    assert language_in("ES-mx", LOCALES) == "es"
    assert language_in("fr_CA", LOCALES) == "fr"
    assert language_in("it", LOCALES) is None
    assert language_in(None, LOCALES) is None


def test_how_often_a_client_texts_is_its_plans_allowance_per_billing_period() -> None:
    assert frequency_of("MONTH", 500) is Frequency.MONTH
    assert frequency_of("WEEK", 10) is Frequency.WEEK
    assert frequency_of("YEAR", 1000) is Frequency.YEAR
    assert frequency_of(None, None) is Frequency.VARIES
    assert frequency_of("MONTH", 0) is Frequency.VARIES


def test_a_pending_opt_in_survives_the_cache_and_changes_language() -> None:
    opt_in = OptIn("c1", "Casa Lupita", "en")
    assert OptIn.from_bytes(opt_in.to_bytes()) == opt_in
    assert opt_in.in_language("es") == OptIn("c1", "Casa Lupita", "es")
