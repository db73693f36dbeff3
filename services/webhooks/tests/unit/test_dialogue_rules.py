"""Keywords and who gets what: the rules of the SMS dialogue, without I/O."""

from __future__ import annotations

import pytest

from nudges_webhooks.domain.dialogue import (
    Action,
    Draft,
    Keyword,
    Sender,
    action_for,
    clean_body,
    keyword_of,
    messages_needed,
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


def test_a_draft_survives_the_cache_unchanged() -> None:
    draft = Draft.new("Sale ☀️", 2)
    assert Draft.from_bytes(draft.to_bytes()) == draft
    assert Draft.new("x", 1).draft_id != draft.draft_id


def test_every_segment_to_every_recipient_counts_against_the_allowance() -> None:
    assert messages_needed(40, 3) == 120
