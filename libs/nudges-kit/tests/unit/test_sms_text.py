"""The announcement copy, and segment counting as carriers bill it: GSM-7 or UCS-2, single or
concatenated parts."""

from __future__ import annotations

import pytest

from nudges_kit.sms_text import Encoding, compose_announcement, count_segments


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("Hi", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 153 * 2, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 1600, 11),
    ],
)
def test_gsm7_texts_take_160_alone_and_153_per_part(text: str, segments: int) -> None:
    counted = count_segments(text)
    assert counted.encoding is Encoding.GSM7
    assert counted.segments == segments


def test_the_accents_of_the_gsm_alphabet_keep_gsm7_and_others_make_ucs2() -> None:
    assert count_segments("Ça va? ¡Olé! Ñandù, Øl, Åse, ß, è é ù ì ò").encoding is Encoding.GSM7
    # "í", "ú" and "á" are not in the GSM alphabet: much Spanish travels as UCS-2.
    assert count_segments("¡Sí! Responde STOP para cancelar.").encoding is Encoding.UCS2


def test_extended_characters_count_twice_and_are_never_split() -> None:
    assert count_segments("€" * 80).units == 160
    assert count_segments("€" * 80).segments == 1
    assert count_segments("€" * 81).segments == 2
    # 152 plain septets then an escape pair: the pair does not fit the first part's last
    # septet, so it opens the second part.
    counted = count_segments("a" * 152 + "[" + "a" * 10)
    assert counted.units == 164
    assert counted.segments == 2
    assert count_segments("a" * 152 + "[" * 77).segments == 3


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("Olá", 1),  # "á" is not GSM-7
        ("ж" * 70, 1),
        ("ж" * 71, 2),
        ("ж" * 134, 2),
        ("ж" * 135, 3),
        ("ж" * 1600, 24),
    ],
)
def test_ucs2_texts_take_70_alone_and_67_per_part(text: str, segments: int) -> None:
    counted = count_segments(text)
    assert counted.encoding is Encoding.UCS2
    assert counted.segments == segments


def test_an_emoji_makes_the_whole_text_ucs2_and_counts_two_units() -> None:
    text = "Sale today only! " + "🎉"
    counted = count_segments(text)
    assert counted.encoding is Encoding.UCS2
    assert counted.units == len("Sale today only! ") + 2
    assert count_segments("🎉" * 35).segments == 1
    assert count_segments("🎉" * 36).segments == 2
    # 66 units then an emoji: the surrogate pair does not straddle two parts.
    assert count_segments("x" * 66 + "🎉" + "x" * 2).segments == 1
    assert count_segments("ж" * 66 + "🎉" + "ж" * 3).segments == 2
    # 134 units would fill two parts of 67, but no part may end inside an emoji.
    assert count_segments("ж" * 66 + "🎉" * 34).units == 134
    assert count_segments("ж" * 66 + "🎉" * 34).segments == 3


def test_a_1600_character_announcement_with_one_emoji() -> None:
    counted = count_segments("a" * 1599 + "🎉")
    assert counted.encoding is Encoding.UCS2
    assert counted.units == 1601
    assert counted.segments == 24


def test_every_basic_and_extension_character_keeps_gsm7() -> None:
    basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ÄÖÑÜ§¿äöñüà"
    assert count_segments(basic).encoding is Encoding.GSM7
    assert count_segments(basic).units == len(basic)
    extension = "\f^{}\\[~]|€"
    assert count_segments(extension).encoding is Encoding.GSM7
    assert count_segments(extension).units == 2 * len(extension)


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 158 + "€", 1),  # 160 septets: one SMS
        ("a" * 159 + "€", 2),  # 161 septets
        ("€" * 76 + "a", 1),  # 153 septets
        ("a" * 153 + "a" * 153, 2),
        ("a" * 153 + "a" * 153 + "a", 3),
    ],
)
def test_gsm7_boundaries_count_septets_not_characters(text: str, segments: int) -> None:
    assert count_segments(text).segments == segments


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("é" * 70, 1),  # é is GSM-7
        ("á" * 70, 1),
        ("á" * 71, 2),
        ("á" * 67 * 2, 2),
        ("á" * (67 * 2 + 1), 3),
    ],
)
def test_ucs2_boundaries_at_70_and_67(text: str, segments: int) -> None:
    assert count_segments(text).segments == segments


def test_the_announcement_is_the_body_line_then_the_opt_out_line() -> None:
    copy = compose_announcement("Bakery Bea: fresh bread at 7", "Reply STOP to opt out")
    assert copy == "Bakery Bea: fresh bread at 7\nReply STOP to opt out"
    # The line break is GSM-7: the copy's segments are those of its two lines and one septet.
    assert count_segments(copy).units == len("Bakery Bea: fresh bread at 7") + 1 + len(
        "Reply STOP to opt out"
    )
