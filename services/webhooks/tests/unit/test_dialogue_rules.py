"""Keywords and who gets what: the rules of the SMS dialogue, without I/O."""

from __future__ import annotations

import pytest

from nudges_kit.sms_text import first_words, longest_frame, quote, segments_by_locale
from nudges_webhooks.domain.dialogue import (
    Action,
    Confirmed,
    Draft,
    Keyword,
    Sender,
    action_for,
    clean_body,
    keyword_of,
)


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", Keyword.STOP),
        ("  stop \n", Keyword.STOP),
        ("StopAll", Keyword.STOP),
        ("unsubscribe", Keyword.STOP),
        ("End", Keyword.STOP),
        ("quit", Keyword.STOP),
        ("cancel", Keyword.CANCEL),
        ("START", Keyword.START),
        ("unstop", Keyword.START),
        ("help ", Keyword.HELP),
        (" Confirm", Keyword.CONFIRM),
        ("stop it", None),
        ("Confirmed!", None),
        ("Big sale tomorrow", None),
        ("", None),
    ],
)
def test_keywords_are_trimmed_and_case_insensitive(text: str, keyword: Keyword | None) -> None:
    assert keyword_of(text) == keyword


def test_opt_out_words_stop_everyone_even_a_client() -> None:
    for sender in Sender:
        assert action_for(Keyword.STOP, sender) is Action.STOP_ALL


def test_cancel_discards_a_clients_draft_and_is_an_opt_out_for_anyone_else() -> None:
    assert action_for(Keyword.CANCEL, Sender.CLIENT) is Action.CANCEL_DRAFT
    assert action_for(Keyword.CANCEL, Sender.SUBSCRIBER) is Action.STOP_ALL
    assert action_for(Keyword.CANCEL, Sender.UNKNOWN) is Action.STOP_ALL


def test_clients_draft_and_confirm_subscribers_get_help_unknown_numbers_how_to_join() -> None:
    assert action_for(None, Sender.CLIENT) is Action.DRAFT
    assert action_for(Keyword.CONFIRM, Sender.CLIENT) is Action.CONFIRM
    assert action_for(Keyword.HELP, Sender.CLIENT) is Action.CLIENT_HELP
    assert action_for(Keyword.START, Sender.CLIENT) is Action.RESTART_ALL
    assert action_for(None, Sender.SUBSCRIBER) is Action.SUBSCRIBER_HELP
    assert action_for(Keyword.CONFIRM, Sender.SUBSCRIBER) is Action.SUBSCRIBER_HELP
    assert action_for(Keyword.START, Sender.SUBSCRIBER) is Action.RESTART_ALL
    assert action_for(Keyword.HELP, Sender.UNKNOWN) is Action.SUBSCRIBER_HELP
    assert action_for(None, Sender.UNKNOWN) is Action.HOW_TO_JOIN
    assert action_for(Keyword.START, Sender.UNKNOWN) is Action.HOW_TO_JOIN
    assert action_for(Keyword.CONFIRM, Sender.UNKNOWN) is Action.HOW_TO_JOIN


def test_a_draft_body_keeps_line_breaks_and_loses_other_control_characters() -> None:
    assert clean_body("  Doors open\r\nat 9\tsharp\x00!  ") == "Doors open\nat 9 sharp !"


def test_a_draft_and_a_confirmation_survive_the_cache_unchanged() -> None:
    draft = Draft.new("Sale ☀️", 5, {"en": 1, "es": 2})
    assert Draft.from_bytes(draft.to_bytes()) == draft
    assert Draft.new("x", 1, {"en": 1}).draft_id != draft.draft_id
    confirmed = Confirmed(draft.draft_id, "a1", 3, "Sale ☀️")
    assert Confirmed.from_bytes(confirmed.to_bytes()) == confirmed


def test_the_quote_is_every_copys_segments_to_every_subscriber_of_its_locale() -> None:
    copies = {
        "en": "Shop: " + "x" * 120 + "\nReply STOP to unsubscribe",  # 152 characters
        "es": "Shop: " + "x" * 120 + "\nResponde STOP para darte de baja",  # 159
        "fr": "Shop : " + "x" * 120 + "\nRépondez STOP pour vous désabonner",  # 162
    }
    segments = segments_by_locale(copies)
    assert segments == {"en": 1, "es": 1, "fr": 2}
    assert quote({"en": 40, "es": 3, "fr": 2}, segments) == 40 + 3 + 4
    assert quote({}, segments) == 0
    assert longest_frame(copies, "x" * 120) == 42


@pytest.mark.parametrize(
    ("body", "start"),
    [
        ("Closed on Monday", "Closed on Monday"),
        (
            "Doors open at 9 tomorrow, first 20 get a free coffee!",
            "Doors open at 9 tomorrow, first...",
        ),
        ("Two\nlines   and  spaces", "Two lines and spaces"),
        ("y" * 40, "y" * 32 + "..."),
        ("Exactly thirty-two characters!!! and more", "Exactly thirty-two characters!!!..."),
    ],
)
def test_a_repeated_confirm_quotes_the_first_words(body: str, start: str) -> None:
    assert first_words(body) == start
