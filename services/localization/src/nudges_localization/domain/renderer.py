"""Rendering a message: the catalog of the locale (or its fallback), the plural form, the
parameters checked and filled in. No I/O: catalogs are loaded by the adapters."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from babel import Locale
from babel.numbers import format_decimal

from nudges_kit.localization import (
    MESSAGES,
    InvalidParameter,
    Message,
    MissingMessage,
    MissingParameter,
)
from nudges_localization.domain.catalog import Catalog, Text
from nudges_localization.domain.locales import fallback_chain

#: The number parameter that selects the plural form of a text no declaration describes.
DEFAULT_PLURAL = "count"

# Babel writes French and other groupings with (narrow) no-break spaces; a plain space keeps
# the SMS in the cheaper encoding more often, and reads the same on a phone.
_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})


@dataclass(frozen=True)
class Rendering:
    """A rendered text and the catalog locale it came from."""

    text: str
    locale: str


class Renderer:
    """Renders declared messages from catalogs, falling back ``es_MX`` -> ``es`` -> default."""

    def __init__(
        self,
        catalogs: Iterable[Catalog],
        *,
        default_locale: str = "en",
        declarations: Mapping[str, Message] = MESSAGES,
    ) -> None:
        self.catalogs = {catalog.locale: catalog for catalog in catalogs}
        if default_locale not in self.catalogs:
            raise ValueError(f"no catalog for the default locale {default_locale!r}")
        self.default_locale = default_locale
        self.declarations = declarations

    @property
    def locales(self) -> tuple[str, ...]:
        """The locales with a catalog."""
        return tuple(sorted(self.catalogs))

    def catalog_for(self, key: str, locale: str) -> Catalog:
        """The first catalog on ``locale``'s fallback chain that has ``key``."""
        for candidate in fallback_chain(locale, self.default_locale):
            catalog = self.catalogs.get(candidate)
            if catalog is not None and key in catalog:
                return catalog
        raise MissingMessage(key)

    def render(self, key: str, locale: str, params: Mapping[str, str]) -> Rendering:
        """The text of ``key`` for ``locale`` with ``params`` filled in.

        Raises :class:`MissingMessage` when no catalog has ``key``,
        :class:`MissingParameter` when a declared or used parameter is absent or blank, and
        :class:`InvalidParameter` when a number parameter is not an integer.
        """
        return self._render(self.catalog_for(key, locale), key, params)

    def render_many(
        self, key: str, locales: Iterable[str], params: Mapping[str, str]
    ) -> dict[str, Rendering]:
        """One rendering per requested locale; each catalog renders the text once."""
        by_catalog: dict[str, Rendering] = {}
        renderings: dict[str, Rendering] = {}
        for locale in dict.fromkeys(locales):
            catalog = self.catalog_for(key, locale)
            if catalog.locale not in by_catalog:
                by_catalog[catalog.locale] = self._render(catalog, key, params)
            renderings[locale] = by_catalog[catalog.locale]
        return renderings

    def _render(self, catalog: Catalog, key: str, params: Mapping[str, str]) -> Rendering:
        entry = catalog.entries[key]
        declared = self.declarations.get(key)
        plural = (declared.plural if declared else None) or DEFAULT_PLURAL
        numbers = declared.numbers if declared else frozenset({DEFAULT_PLURAL})

        form: Text = entry.forms[0]
        if entry.plural:
            form = catalog.form_for(entry, _integer(key, plural, params))
        needed = form.placeholders | frozenset(declared.params if declared else ())
        values: dict[str, str] = {}
        for name in sorted(needed):
            value = params.get(name, "").strip()
            if not value:
                raise MissingParameter(key, name)
            if name in numbers:
                number = _integer(key, name, params)
                value = format_decimal(number, locale=_babel_locale(catalog.locale))
                value = value.translate(_SPACES)
            values[name] = value
        return Rendering(form.fill(values), catalog.locale)


@functools.lru_cache(maxsize=64)
def _babel_locale(tag: str) -> Locale:
    # Parsed once per catalog: parsing the tag on each number cost more than formatting it.
    return Locale.parse(tag)


def _integer(key: str, name: str, params: Mapping[str, str]) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        raise MissingParameter(key, name)
    try:
        return int(raw)
    except ValueError:
        raise InvalidParameter(key, name) from None
