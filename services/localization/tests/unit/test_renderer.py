"""The renderer over catalogs built in memory: plural forms, fallback, parameters."""

from __future__ import annotations

import gettext

import pytest

from nudges_kit.localization import InvalidParameter, Message, MissingMessage, MissingParameter
from nudges_localization.domain.catalog import Catalog, CatalogError, Entry, Text
from nudges_localization.domain.renderer import Renderer

DECLARATIONS = {
    "sent": Message("sent", ("count",), frozenset({"count"}), "count"),
    "hello": Message("hello", ("name",)),
    "done": Message("done", ("sent", "failed"), frozenset({"sent", "failed"}), "sent"),
    "en_only": Message("en_only", ()),
    "signed": Message("signed", ("name", "team")),
}


def entry(key: str, *forms: str, plural: bool = False) -> Entry:
    return Entry(key, tuple(Text.parse(f) for f in forms), plural)


def catalog(locale: str, rule: str, *entries: Entry) -> Catalog:
    return Catalog(locale, {e.key: e for e in entries}, gettext.c2py(rule))


EN = catalog(
    "en",
    "(n != 1)",
    entry("sent", "Sent to {count} subscriber.", "Sent to {count} subscribers.", plural=True),
    entry("hello", "Hello {name}!"),
    entry(
        "done", "{sent} sent, {failed} failed (one).", "{sent} sent, {failed} failed.", plural=True
    ),
    entry("en_only", "Only in English."),
    entry("signed", "Hi, {name}."),
)
FR = catalog(
    "fr",
    "(n > 1)",
    entry("sent", "Envoyé à {count} abonné.", "Envoyé à {count} abonnés.", plural=True),
    entry("hello", "Bonjour {name} !"),
)
ES = catalog("es", "(n != 1)", entry("hello", "¡Hola {name}!"))


@pytest.fixture
def renderer() -> Renderer:
    return Renderer([EN, FR, ES], default_locale="en", declarations=DECLARATIONS)


@pytest.mark.parametrize(
    ("locale", "count", "text"),
    [
        ("en", "1", "Sent to 1 subscriber."),
        ("en", "0", "Sent to 0 subscribers."),
        ("en", "2", "Sent to 2 subscribers."),
        ("fr", "0", "Envoyé à 0 abonné."),
        ("fr", "1", "Envoyé à 1 abonné."),
        ("fr", "2", "Envoyé à 2 abonnés."),
    ],
)
def test_the_number_selects_the_plural_form(
    renderer: Renderer, locale: str, count: str, text: str
) -> None:
    assert renderer.render("sent", locale, {"count": count}).text == text


def test_numbers_are_formatted_for_the_locale(renderer: Renderer) -> None:
    assert (
        renderer.render("sent", "en", {"count": "1234567"}).text == "Sent to 1,234,567 subscribers."
    )
    assert renderer.render("sent", "fr", {"count": "1234567"}).text == "Envoyé à 1 234 567 abonnés."


def test_a_declared_plural_parameter_selects_the_form(renderer: Renderer) -> None:
    assert (
        renderer.render("done", "en", {"sent": "1", "failed": "0"}).text
        == "1 sent, 0 failed (one)."
    )
    assert renderer.render("done", "en", {"sent": "3", "failed": "1"}).text == "3 sent, 1 failed."


def test_a_region_falls_back_to_its_language_then_the_default(renderer: Renderer) -> None:
    assert renderer.render("hello", "fr-CA", {"name": "Ana"}).locale == "fr"
    assert renderer.render("hello", "es_MX", {"name": "Ana"}).text == "¡Hola Ana!"
    assert renderer.render("hello", "xx", {"name": "Ana"}).locale == "en"


def test_a_key_missing_in_a_language_falls_back_to_the_default(renderer: Renderer) -> None:
    rendering = renderer.render("en_only", "fr", {})

    assert (rendering.text, rendering.locale) == ("Only in English.", "en")


def test_an_unknown_key_is_missing(renderer: Renderer) -> None:
    with pytest.raises(MissingMessage) as missing:
        renderer.render("nope", "fr", {})

    assert missing.value.key == "nope"


def test_a_missing_or_blank_parameter_is_named(renderer: Renderer) -> None:
    with pytest.raises(MissingParameter) as missing:
        renderer.render("hello", "en", {})
    assert (missing.value.key, missing.value.parameter) == ("hello", "name")

    with pytest.raises(MissingParameter):
        renderer.render("hello", "en", {"name": "  "})


def test_a_declared_parameter_is_required_even_where_the_text_omits_it(renderer: Renderer) -> None:
    with pytest.raises(MissingParameter) as missing:
        renderer.render("signed", "en", {"name": "Ana"})

    assert missing.value.parameter == "team"


def test_a_number_parameter_must_be_an_integer(renderer: Renderer) -> None:
    with pytest.raises(InvalidParameter) as invalid:
        renderer.render("sent", "en", {"count": "5.5"})
    assert invalid.value.parameter == "count"

    with pytest.raises(InvalidParameter) as invalid:
        renderer.render("done", "en", {"sent": "2", "failed": "some"})
    assert invalid.value.parameter == "failed"


def test_parameter_values_are_inserted_verbatim(renderer: Renderer) -> None:
    rendering = renderer.render("hello", "en", {"name": "{count} {0.__class__} %s"})

    assert rendering.text == "Hello {count} {0.__class__} %s!"


def test_render_many_renders_each_catalog_once(renderer: Renderer) -> None:
    renderings = renderer.render_many(
        "hello", ["es-MX", "es", "fr", "xx", "en", "es-MX"], {"name": "Ana"}
    )

    assert list(renderings) == ["es-MX", "es", "fr", "xx", "en"]
    assert renderings["es-MX"] is renderings["es"]
    assert renderings["xx"] is renderings["en"]
    assert {r.locale for r in renderings.values()} == {"es", "fr", "en"}


def test_a_text_no_declaration_describes_is_plural_on_count() -> None:
    renderer = Renderer([EN], declarations={})

    assert renderer.render("sent", "en", {"count": "1"}).text == "Sent to 1 subscriber."


def test_the_default_locale_must_have_a_catalog() -> None:
    with pytest.raises(ValueError, match="default locale"):
        Renderer([FR], default_locale="en")


@pytest.mark.parametrize("source", ["{0}", "{count:d}", "{count!r}", "{a.b}", "{unclosed", "}"])
def test_a_text_takes_only_plain_placeholders(source: str) -> None:
    with pytest.raises(CatalogError):
        Text.parse(source)


def test_doubled_braces_are_literal() -> None:
    text = Text.parse("{{literal}} {name}")

    assert text.placeholders == {"name"}
    assert text.fill({"name": "x"}) == "{literal} x"
