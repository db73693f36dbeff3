"""Locale tags as callers send them, and where each one falls back to."""

from __future__ import annotations

import pytest

from nudges_localization.domain.locales import fallback_chain, normalize


@pytest.mark.parametrize(
    ("tag", "normalized"),
    [
        ("es-MX", "es_MX"),
        ("es_mx", "es_MX"),
        ("ES-mx", "es_MX"),
        (" fr ", "fr"),
        ("de_DE.UTF-8", "de_DE"),
        ("sr_RS@latin", "sr_RS"),
        ("zh-hant-tw", "zh_Hant_TW"),
        ("es-419", "es_419"),
        ("", ""),
        ("123", ""),
        ("-", ""),
    ],
)
def test_tags_are_normalized(tag: str, normalized: str) -> None:
    assert normalize(tag) == normalized


@pytest.mark.parametrize(
    ("tag", "chain"),
    [
        ("es-MX", ("es_MX", "es", "en")),
        ("pt-BR", ("pt_BR", "pt", "en")),
        ("zh-Hant-TW", ("zh_Hant_TW", "zh_Hant", "zh", "en")),
        ("en-GB", ("en_GB", "en")),
        ("en", ("en",)),
        ("xx", ("xx", "en")),
        ("", ("en",)),
    ],
)
def test_the_chain_ends_with_the_default(tag: str, chain: tuple[str, ...]) -> None:
    assert fallback_chain(tag, "en") == chain
