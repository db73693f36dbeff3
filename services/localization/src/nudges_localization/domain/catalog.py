"""Message catalogs as the renderer sees them: texts by key, parsed, with the plural rule."""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass


class CatalogError(ValueError):
    """A catalog text cannot be used (a malformed placeholder, a missing plural form)."""


@dataclass(frozen=True)
class Text:
    """One catalog text, split into literal pieces and the ``{placeholder}`` after each."""

    pieces: tuple[tuple[str, str | None], ...]

    @classmethod
    def parse(cls, source: str) -> Text:
        """Parse ``source``; placeholders are plain names (``{count}``), ``{{`` is a brace."""
        try:
            parsed = list(string.Formatter().parse(source))
        except ValueError as exc:
            raise CatalogError(f"{exc}: {source!r}") from exc
        pieces: list[tuple[str, str | None]] = []
        for literal, field, spec, conversion in parsed:
            if field is not None and (not field.isidentifier() or spec or conversion):
                raise CatalogError(f"placeholder {{{field}}} is not a plain name: {source!r}")
            pieces.append((literal, field))
        return cls(tuple(pieces))

    @property
    def placeholders(self) -> frozenset[str]:
        """The names of the placeholders."""
        return frozenset(field for _, field in self.pieces if field is not None)

    def fill(self, values: Mapping[str, str]) -> str:
        """The text with every placeholder replaced by its value (the caller checked them)."""
        return "".join(literal + (values[field] if field else "") for literal, field in self.pieces)


@dataclass(frozen=True)
class Entry:
    """The text of one key in one catalog: one form, or one per plural form."""

    key: str
    forms: tuple[Text, ...]
    plural: bool = False

    @property
    def placeholders(self) -> frozenset[str]:
        """Placeholders used by any form."""
        return frozenset().union(*(form.placeholders for form in self.forms))


@dataclass(frozen=True)
class Catalog:
    """The texts of one locale; ``plural_form`` maps a number to the index of its form
    (the catalog's gettext ``Plural-Forms`` rule)."""

    locale: str
    entries: Mapping[str, Entry]
    plural_form: Callable[[int], int]

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def form_for(self, entry: Entry, number: int) -> Text:
        """The form of ``entry`` for ``number``."""
        if not entry.plural:
            return entry.forms[0]
        index = self.plural_form(number)
        if not 0 <= index < len(entry.forms):
            raise CatalogError(
                f"{self.locale}: {entry.key!r} has {len(entry.forms)} forms, rule wants {index}"
            )
        return entry.forms[index]
