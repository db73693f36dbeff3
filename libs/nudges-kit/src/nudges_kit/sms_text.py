"""The text of an announcement as a subscriber receives it, and how many SMS segments a text
takes as carriers bill it. The SMS dialogue quotes the segments of the copy it composes here,
and the fan-out sends the copy composed here: one definition, so the quote is what is sent.

A text whose every character is in the GSM 03.38 alphabet travels in GSM-7: 160 septets in a
single SMS, 153 per part once it needs several (the rest carries the concatenation header);
the characters of the extension table take two septets (an escape and the character) and an
escape pair is never split between parts. Any other character makes the whole text UCS-2:
70 UTF-16 code units alone, 67 per part, and a surrogate pair (an emoji) is never split.

The counter is written here rather than taken from PyPI: ``sms-counter`` (0.0.1) counts an
emoji as one UCS-2 unit and splits escape pairs between parts (36 emoji: 1 segment, where
carriers bill 2; 152 septets then 77 escape pairs: 2, not 3); ``sms-toolkit`` (1.0.9, last
released 2022) gives the same counts as this counter on the cases of its unit tests but fails
at import (it needs ``six`` without declaring it) and is untyped Python 2 era code;
``gsm0338`` is a codec and counts nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

#: The basic GSM 03.38 alphabet (one septet each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The extension table, reached through an escape (two septets each).
GSM7_EXTENDED = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class SegmentCount:
    """The encoding of a text, its length in that encoding's units, and its segments."""

    encoding: Encoding
    units: int
    segments: int


def _pack(sizes: Iterable[int], per_part: int) -> int:
    """Parts needed when each character of ``sizes`` units must fit whole in one part."""
    parts, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            parts += 1
            used = 0
        used += size
    return parts


#: How much of a message a notice about it quotes back (a repeated CONFIRM, a refused
#: schedule), in characters.
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


def compose_announcement(body_line: str, opt_out_line: str) -> str:
    """The SMS every subscriber receives: the localized body (client name and text), then the
    localized opt-out line."""
    return f"{body_line}\n{opt_out_line}"


def count_segments(text: str) -> SegmentCount:
    """The segments ``text`` is sent in (0 for an empty text)."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        sizes = [2 if c in GSM7_EXTENDED else 1 for c in text]
        encoding, single, part = Encoding.GSM7, GSM7_SINGLE, GSM7_PART
    else:
        sizes = [len(c.encode("utf-16-le")) // 2 for c in text]
        encoding, single, part = Encoding.UCS2, UCS2_SINGLE, UCS2_PART
    units = sum(sizes)
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments = _pack(sizes, part)
    return SegmentCount(encoding, units, segments)


#: Longest SMS body Twilio accepts, in characters (the announcement as sent must fit).
MAX_SMS_CHARACTERS = 1600


def segments_by_locale(copies: Mapping[str, str]) -> dict[str, int]:
    """The SMS segments of each locale's copy of an announcement."""
    return {locale: count_segments(copy).segments for locale, copy in copies.items()}


def quote(audience: Mapping[str, int], segments: Mapping[str, int]) -> int:
    """What an announcement to ``audience`` (subscribers per locale) is charged: the segments
    of each subscriber's copy, in their locale, summed (as the fan-out sends and UserApi
    totals them)."""
    return sum(count * segments[locale] for locale, count in audience.items())


def longest_frame(copies: Mapping[str, str], body: str) -> int:
    """Characters the longest copy adds around ``body`` (client name, opt-out line): what
    the 1600-character limit leaves the client is ``MAX_SMS_CHARACTERS`` less this."""
    return max(len(copy) - len(body) for copy in copies.values())


@dataclass(frozen=True)
class AnnouncementQuote:
    """An announcement as the fan-out would send it to an audience: each locale's copy, its
    segments, and what the whole audience is charged. Computed once, here, for the SMS
    dialogue's draft reply and the web composer's preview alike."""

    body: str
    #: Active subscribers per locale (only locales with someone in them).
    audience: dict[str, int]
    copies: dict[str, str]
    segments: dict[str, int]
    #: Characters the longest copy adds around the body.
    frame: int

    @classmethod
    def of(
        cls, body: str, audience: Mapping[str, int], copies: Mapping[str, str]
    ) -> AnnouncementQuote:
        """The quote of ``body`` for ``audience`` whose copies (one per locale of the
        audience, or of the client's own locale when nobody is in it) are ``copies``."""
        return cls(
            body=body,
            audience={loc: n for loc, n in audience.items() if n > 0},
            copies=dict(copies),
            segments=segments_by_locale(copies),
            frame=longest_frame(copies, body),
        )

    @property
    def recipients(self) -> int:
        return sum(self.audience.values())

    @property
    def messages(self) -> int:
        """The segments the whole audience is charged."""
        return quote(self.audience, self.segments)

    @property
    def fits(self) -> bool:
        """Whether every copy is within Twilio's limit."""
        return len(self.body) + self.frame <= MAX_SMS_CHARACTERS

    @property
    def max_body_characters(self) -> int:
        """The longest body every copy would still fit with."""
        return max(MAX_SMS_CHARACTERS - self.frame, 0)


def audience_locales(audience: Mapping[str, int], fallback: str) -> list[str]:
    """The locales to compose copies in: those of the audience, else ``fallback`` alone."""
    return sorted(loc for loc, n in audience.items() if n > 0) or [fallback]
