"""The rules of the SMS dialogue: which keyword a text is, what it does for whom, the draft a
client's text becomes, and whether an announcement fits the plan's allowance. No I/O."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum

import orjson

#: Carrier opt-out words: they always stop every membership of the number. CANCEL is one of
#: them too, except for a client with a draft waiting (see :func:`action_for`).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP"})
CONFIRM_WORDS = frozenset({"CONFIRM"})
CANCEL_WORDS = frozenset({"CANCEL"})


class Keyword(StrEnum):
    STOP = "STOP"
    START = "START"
    HELP = "HELP"
    CONFIRM = "CONFIRM"
    CANCEL = "CANCEL"


def keyword_of(text: str) -> Keyword | None:
    """The keyword ``text`` is (trimmed, any case), or None for any other text."""
    word = text.strip().upper()
    for keyword, words in (
        (Keyword.STOP, STOP_WORDS),
        (Keyword.START, START_WORDS),
        (Keyword.HELP, HELP_WORDS),
        (Keyword.CONFIRM, CONFIRM_WORDS),
        (Keyword.CANCEL, CANCEL_WORDS),
    ):
        if word in words:
            return keyword
    return None


class Sender(StrEnum):
    """Who texts: a client (whatever else they are), a subscriber, or someone unknown."""

    CLIENT = "client"
    SUBSCRIBER = "subscriber"
    UNKNOWN = "unknown"


class Action(StrEnum):
    STOP_ALL = "stop_all"
    RESTART_ALL = "restart_all"
    CLIENT_HELP = "client_help"
    SUBSCRIBER_HELP = "subscriber_help"
    CONFIRM = "confirm"
    #: Discard the client's draft; when none is waiting, CANCEL is an opt-out word (STOP_ALL).
    CANCEL_DRAFT = "cancel_draft"
    DRAFT = "draft"
    HOW_TO_JOIN = "how_to_join"


def action_for(keyword: Keyword | None, sender: Sender) -> Action:
    """What a text does.

    - STOP and the other opt-out words stop every membership of the number, from anyone
      (a client too: carrier rules come first); START and UNSTOP restart them.
    - CANCEL from a client discards their waiting draft; with no draft waiting, and from
      anyone else, it is the carrier opt-out word and stops every membership.
    - HELP gets the client help or the subscriber help (unknown numbers get the latter).
    - From a client, CONFIRM sends the waiting draft and any other text becomes the draft.
    - From a subscriber any other text gets the help; an unknown number is told how to join.
    """
    if keyword is Keyword.STOP:
        return Action.STOP_ALL
    if keyword is Keyword.CANCEL:
        return Action.CANCEL_DRAFT if sender is Sender.CLIENT else Action.STOP_ALL
    if keyword is Keyword.HELP:
        return Action.CLIENT_HELP if sender is Sender.CLIENT else Action.SUBSCRIBER_HELP
    if sender is Sender.UNKNOWN:
        return Action.HOW_TO_JOIN
    if keyword is Keyword.START:
        return Action.RESTART_ALL
    if sender is Sender.CLIENT:
        return Action.CONFIRM if keyword is Keyword.CONFIRM else Action.DRAFT
    return Action.SUBSCRIBER_HELP


def clean_body(text: str) -> str:
    """A client's text as an announcement body: trimmed, line breaks kept as ``\\n``, other
    control characters turned into spaces (UserApi refuses them)."""
    unified = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        " " if unicodedata.category(c) == "Cc" and c != "\n" else c for c in unified
    ).strip()


#: How much of a confirmed message a repeated CONFIRM quotes back, in characters.
START_CHARACTERS = 32


def first_words(body: str, limit: int = START_CHARACTERS) -> str:
    """The start of ``body`` on one line: whole words within ``limit`` characters (a first
    word longer than that is cut), then ``...`` when there is more (ASCII: GSM-7)."""
    line = " ".join(body.split())
    if len(line) <= limit:
        return line
    head = line[:limit]
    if line[limit] != " " and " " in head:
        head = head.rsplit(" ", 1)[0]
    return f"{head.rstrip(' ,;:.')}..."


@dataclass(frozen=True)
class Draft:
    """A client's text waiting for CONFIRM. ``draft_id`` is the key UserApi creates the
    announcement under, once; ``messages`` the segments quoted for the whole audience (what
    CONFIRM checks against the allowance) and ``segments`` those of each locale's copy."""

    draft_id: str
    body: str
    messages: int
    segments: dict[str, int]

    @classmethod
    def new(cls, body: str, messages: int, segments: Mapping[str, int]) -> Draft:
        return cls(str(uuid.uuid4()), body, messages, dict(segments))

    def to_bytes(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Draft:
        data = orjson.loads(raw)
        return cls(
            draft_id=str(data["draft_id"]),
            body=str(data["body"]),
            messages=int(data["messages"]),
            segments={str(k): int(v) for k, v in data["segments"].items()},
        )


@dataclass(frozen=True)
class Confirmed:
    """A draft just confirmed, remembered so that a repeated CONFIRM says so (and quotes
    ``start``, the first words of its body)."""

    draft_id: str
    announcement_id: str
    recipients: int
    start: str

    def to_bytes(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Confirmed:
        data = orjson.loads(raw)
        return cls(
            draft_id=str(data["draft_id"]),
            announcement_id=str(data["announcement_id"]),
            recipients=int(data["recipients"]),
            start=str(data["start"]),
        )
