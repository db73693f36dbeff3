"""The catalogs themselves: every declared message translated in every locale with the same
placeholders, plural rules that agree with Babel's locale data, and how they load."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog as BabelCatalog
from babel.messages.catalog import Message as BabelMessage
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from nudges_kit.localization import MESSAGES
from nudges_localization.adapters.catalog_files import (
    CatalogsNotCompiled,
    load_catalogs,
    read_catalog,
)
from nudges_localization.domain.catalog import CatalogError, Text

from ..conftest import LOCALES as LOCALES_DIR

LOCALES = ("en", "es", "fr", "de")
# Characters a translator's keyboard slips in that push an SMS into the UCS-2 encoding
# (70 characters a segment instead of 160) for no visible gain.
TYPOGRAPHIC = {"\u2019", "\u2018", "\u201c", "\u201d", "\u2026", "\u00a0", "\u202f", "\u2013"}
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def read(locale: str) -> BabelCatalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=locale)


def messages(catalog: BabelCatalog) -> dict[str, BabelMessage]:
    return {key_of(m): m for m in catalog if m.id}


def key_of(message: BabelMessage) -> str:
    return str(message.id[0] if isinstance(message.id, list | tuple) else message.id)


def forms(message: BabelMessage) -> list[str]:
    if isinstance(message.string, list | tuple):
        return [str(s) for s in message.string]
    return [str(message.string)]


def placeholders(message: BabelMessage) -> set[str]:
    return set().union(*(Text.parse(form).placeholders for form in forms(message)))


def test_the_template_has_every_declared_message() -> None:
    with (LOCALES_DIR / "messages.pot").open("rb") as file:
        template = messages(read_po(file))

    assert set(template) == set(MESSAGES), "run make l10n-update"
    for key, message in template.items():
        assert message.pluralizable == (MESSAGES[key].plural is not None), key


@pytest.mark.parametrize("locale", LOCALES)
def test_every_declared_message_is_translated(locale: str) -> None:
    catalog = messages(read(locale))

    assert set(catalog) == set(MESSAGES)
    for key, message in catalog.items():
        assert not message.fuzzy, f"{locale}: {key} is fuzzy"
        assert all(form.strip() for form in forms(message)), f"{locale}: {key} untranslated"
        assert message.pluralizable == (MESSAGES[key].plural is not None), f"{locale}: {key}"


def test_english_uses_every_declared_parameter() -> None:
    for key, message in messages(read("en")).items():
        assert placeholders(message) == set(MESSAGES[key].params), key


@pytest.mark.parametrize("locale", ["es", "fr", "de"])
def test_translations_have_the_placeholders_of_english(locale: str) -> None:
    english = messages(read("en"))
    for key, message in messages(read(locale)).items():
        assert placeholders(message) == placeholders(english[key]), f"{locale}: {key}"
        for form in forms(message):
            assert Text.parse(form).placeholders <= set(MESSAGES[key].params), f"{locale}: {key}"


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_rules_are_babel_s(locale: str) -> None:
    catalog = read(locale)
    rule = Locale.parse(locale).plural_form

    assert catalog.plural_forms == get_plural(locale).plural_forms
    compiled = gettext.c2py(catalog.plural_expr)
    for n in range(0, 1001):
        # Index 0 is the CLDR "one" form in these two-form languages (French: 0 and 1).
        assert (compiled(n) == 0) == (rule(n) == "one"), f"{locale}: {n}"
    for key, message in messages(catalog).items():
        if message.pluralizable:
            assert len(forms(message)) == catalog.num_plurals, f"{locale}: {key}"


@pytest.mark.parametrize("locale", LOCALES)
def test_texts_are_tidy_for_sms(locale: str) -> None:
    for key, message in messages(read(locale)).items():
        for form in forms(message):
            assert form == form.strip(), f"{locale}: {key}"
            assert "  " not in form, f"{locale}: {key}"
            assert not set(form) & TYPOGRAPHIC, f"{locale}: {key}: {set(form) & TYPOGRAPHIC}"


def test_english_texts_fit_the_gsm_alphabet() -> None:
    for key, message in messages(read("en")).items():
        for form in forms(message):
            assert set(form) <= GSM7 | set("{}"), f"{key}: {set(form) - GSM7}"


def test_the_shipped_catalogs_load(compiled_catalogs: Path) -> None:
    catalogs = {catalog.locale: catalog for catalog in load_catalogs(compiled_catalogs)}

    assert set(catalogs) == set(LOCALES)
    for catalog in catalogs.values():
        assert set(catalog.entries) == set(MESSAGES)
    assert catalogs["fr"].plural_form(0) == 0
    assert catalogs["en"].plural_form(0) == 1


def compile_catalog(directory: Path, locale: str, *entries: BabelMessage) -> Path:
    catalog = BabelCatalog(locale=locale)
    for entry in entries:
        catalog[entry.id] = entry
    folder = directory / locale / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text("# source\n")
    with (folder / "messages.mo").open("wb") as file:
        write_mo(file, catalog)
    return folder / "messages.mo"


def test_a_compiled_catalog_reads_with_its_plural_rule(tmp_path: Path) -> None:
    path = compile_catalog(
        tmp_path,
        "fr",
        BabelMessage(("sent", "sent"), ("{count} abonné", "{count} abonnés")),
        BabelMessage("hello", "Bonjour {name}"),
        BabelMessage(("half", "half"), ("une moitié", "")),
        BabelMessage("later", ""),
    )

    catalog = read_catalog(path, locale="fr")

    assert set(catalog.entries) == {"sent", "hello"}
    assert catalog.entries["sent"].plural
    assert catalog.form_for(catalog.entries["sent"], 0).fill({"count": "0"}) == "0 abonné"
    assert catalog.form_for(catalog.entries["sent"], 2).fill({"count": "2"}) == "2 abonnés"


def test_a_malformed_placeholder_fails_the_load_naming_it(tmp_path: Path) -> None:
    path = compile_catalog(tmp_path, "de", BabelMessage("hello", "Hallo {name!r}"))

    with pytest.raises(CatalogError, match=r"de: hello"):
        read_catalog(path, locale="de")


def test_uncompiled_catalogs_are_refused_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text("# source\n")

    with pytest.raises(CatalogsNotCompiled, match=r"es/LC_MESSAGES/messages.po"):
        load_catalogs(tmp_path)
    with pytest.raises(CatalogsNotCompiled, match="no catalogs"):
        load_catalogs(tmp_path / "nowhere")
