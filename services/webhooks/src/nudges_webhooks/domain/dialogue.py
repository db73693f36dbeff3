"""The rules of the SMS dialogue: which keyword a text is, what it does for whom, the draft a
client's text becomes, whether an announcement fits the plan's allowance, and the double
opt-in of a number joining a client by text. No I/O."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from enum import StrEnum

import orjson
import phonenumbers
from babel.languages import get_official_languages

#: Carrier opt-out words: they always stop every membership of the number. CANCEL is one of
#: them too, except for a client with a draft waiting (see :func:`action_for`).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP"})
CONFIRM_WORDS = frozenset({"CONFIRM"})
CANCEL_WORDS = frozenset({"CANCEL"})
YES_WORDS = frozenset({"YES"})
#: Words followed by one argument: ``JOIN <slug or keyword>``, ``LANG <language>``.
JOIN_WORD = "JOIN"
LANG_WORD = "LANG"

#: What a client's keyword looks like (UserApi validates it the same way when it is set).
CLIENT_KEYWORD = re.compile(r"^[A-Za-z0-9]{2,20}$")


class Keyword(StrEnum):
    STOP = "STOP"
    START = "START"
    HELP = "HELP"
    CONFIRM = "CONFIRM"
    CANCEL = "CANCEL"
    YES = "YES"
    JOIN = "JOIN"
    LANG = "LANG"


def keyword_of(text: str) -> Keyword | None:
    """The keyword ``text`` is (trimmed, any case), or None for any other text."""
    return parse(text).keyword


@dataclass(frozen=True)
class Command:
    """A text as the dialogue reads it: its keyword (None: any other text) and the word after
    JOIN or LANG (None when there is none)."""

    keyword: Keyword | None
    argument: str | None = None


def parse(text: str) -> Command:
    """What ``text`` says: a keyword alone, ``JOIN`` or ``LANG`` with at most one word after
    it, or nothing the dialogue knows (``Join us tonight`` is a client's announcement)."""
    words = text.split()
    head = words[0].upper() if words else ""
    if head in (JOIN_WORD, LANG_WORD) and len(words) <= 2:
        return Command(Keyword(head), words[1] if len(words) == 2 else None)
    if len(words) != 1:
        return Command(None)
    for keyword, group in (
        (Keyword.STOP, STOP_WORDS),
        (Keyword.START, START_WORDS),
        (Keyword.HELP, HELP_WORDS),
        (Keyword.CONFIRM, CONFIRM_WORDS),
        (Keyword.CANCEL, CANCEL_WORDS),
        (Keyword.YES, YES_WORDS),
    ):
        if head in group:
            return Command(keyword)
    return Command(None)


def client_keyword_in(text: str) -> str | None:
    """The word ``text`` is, when it could be a client's keyword texted alone."""
    word = text.strip()
    return word if CLIENT_KEYWORD.match(word) else None


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
    #: ``JOIN <word>``: the opt-in to the client of that slug or keyword starts.
    JOIN = "join"
    #: A word alone from a subscriber or an unknown number: a client's keyword, perhaps.
    JOIN_BY_KEYWORD = "join_by_keyword"
    #: ``YES``: the pending opt-in becomes a membership.
    ACCEPT_OPT_IN = "accept_opt_in"
    SET_LANGUAGE = "set_language"


def action_for(keyword: Keyword | None, sender: Sender, single_word: bool = False) -> Action:
    """What a text does.

    - STOP and the other opt-out words stop every membership of the number, from anyone
      (a client too: carrier rules come first); START and UNSTOP restart them.
    - From anyone, ``JOIN <word>`` starts the opt-in to a client, ``YES`` accepts it and
      ``LANG <language>`` sets the language; a word alone (``single_word``) from anyone but
      a client may be a client's keyword (a client's one word is their announcement).
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
    if keyword is Keyword.JOIN:
        return Action.JOIN
    if keyword is Keyword.YES:
        return Action.ACCEPT_OPT_IN
    if keyword is Keyword.LANG:
        return Action.SET_LANGUAGE
    if keyword is None and single_word and sender is not Sender.CLIENT:
        return Action.JOIN_BY_KEYWORD
    if sender is Sender.UNKNOWN:
        return Action.HOW_TO_JOIN
    if keyword is Keyword.START:
        return Action.RESTART_ALL
    if sender is Sender.CLIENT:
        return Action.CONFIRM if keyword is Keyword.CONFIRM else Action.DRAFT
    return Action.SUBSCRIBER_HELP


def when_no_client_matches(action: Action, sender: Sender) -> Action:
    """What a JOIN or a word alone does when no client has that slug or keyword: a client's
    ``Join us ...`` is their draft; anyone else is told how to join, except that a
    subscriber's word alone ("thanks") gets the help as any other text of theirs."""
    if sender is Sender.CLIENT:
        return Action.DRAFT
    if action is Action.JOIN_BY_KEYWORD and sender is Sender.SUBSCRIBER:
        return Action.SUBSCRIBER_HELP
    return Action.HOW_TO_JOIN


DEFAULT_LOCALE = "en"


def locale_for_number(e164: str, supported: Sequence[str]) -> str:
    """The language a number's country reads, among ``supported``: the first official
    language of its region (``+52`` Mexico: es; ``+41`` Switzerland: de), else English."""
    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    if region and region != "ZZ":
        for language in get_official_languages(region, de_facto=True):
            if language in supported:
                return language
    return DEFAULT_LOCALE


def language_in(argument: str | None, supported: Sequence[str]) -> str | None:
    """The supported language ``LANG <argument>`` asks for (``es``, ``ES``, ``es-MX``)."""
    if not argument:
        return None
    base = argument.replace("_", "-").split("-")[0].lower()
    return base if base in supported else None


@dataclass(frozen=True)
class OptIn:
    """A number's JOIN waiting for YES (a double opt-in): the client asked for, and the
    language the number's replies and its new profile take."""

    client_id: str
    client_name: str
    locale: str

    def in_language(self, locale: str) -> OptIn:
        return replace(self, locale=locale)

    def to_bytes(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_bytes(cls, raw: bytes) -> OptIn:
        data = orjson.loads(raw)
        return cls(
            client_id=str(data["client_id"]),
            client_name=str(data["client_name"]),
            locale=str(data["locale"]),
        )


class Frequency(StrEnum):
    """How often a client texts, as the opt-in question tells it."""

    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    #: No plan: the client cannot send now, and no number can be promised.
    VARIES = "varies"


def frequency_of(interval: str | None, messages_per_period: int | None) -> Frequency:
    """The frequency of a plan billed per ``interval`` with ``messages_per_period`` (the
    plan's allowance is counted per billing period), VARIES without a plan."""
    if not interval or not messages_per_period:
        return Frequency.VARIES
    try:
        return Frequency(interval.lower())
    except ValueError:
        return Frequency.VARIES


def clean_body(text: str) -> str:
    """A client's text as an announcement body: trimmed, line breaks kept as ``\\n``, other
    control characters turned into spaces (UserApi refuses them)."""
    unified = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        " " if unicodedata.category(c) == "Cc" and c != "\n" else c for c in unified
    ).strip()


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
