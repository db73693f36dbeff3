"""The compiled gettext catalogs on disk: ``locales/<locale>/LC_MESSAGES/messages.mo``.

The ``.po`` files are the source (managed with Babel, see the README); ``make generate``
compiles them to ``.mo`` (``scripts/generate-catalogs.sh``), which is what is loaded here.
"""

from __future__ import annotations

import gettext
from pathlib import Path

from babel.messages.catalog import Message as BabelMessage
from babel.messages.mofile import read_mo

from nudges_kit.logging import get_logger
from nudges_localization.domain.catalog import Catalog, CatalogError, Entry, Text

#: The catalogs shipped with the package.
PACKAGE_CATALOGS = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

log = get_logger(__name__)


class CatalogsNotCompiled(RuntimeError):
    """A ``.po`` catalog has no compiled ``.mo`` beside it."""


def load_catalogs(directory: Path = PACKAGE_CATALOGS) -> list[Catalog]:
    """Every compiled catalog under ``directory``.

    Raises :class:`CatalogsNotCompiled` when a ``.po`` has no ``.mo``, and
    :class:`CatalogError` naming the locale and key of a text that cannot be used.
    """
    sources = sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    missing = [po for po in sources if not po.with_suffix(".mo").exists()]
    if missing or not sources:
        names = ", ".join(str(po) for po in missing) or f"no catalogs in {directory}"
        raise CatalogsNotCompiled(
            f"{names}: compile the catalogs first (make generate, "
            "or bash scripts/generate-catalogs.sh)"
        )
    catalogs = []
    for po in sources:
        mo = po.with_suffix(".mo")
        if po.stat().st_mtime > mo.stat().st_mtime:
            log.warning("catalog older than its source, recompile it", catalog=str(mo))
        catalogs.append(read_catalog(mo, locale=po.parent.parent.name))
    return catalogs


def read_catalog(path: Path, locale: str) -> Catalog:
    """One compiled catalog; messages with an untranslated form are left out (they fall
    back to the next locale of the chain)."""
    with path.open("rb") as file:
        compiled = read_mo(file)
    entries: dict[str, Entry] = {}
    for message in compiled:
        if not message.id:  # the header
            continue
        try:
            entry = _entry(message)
        except CatalogError as exc:
            raise CatalogError(f"{locale}: {exc}") from exc
        if entry is not None:
            entries[entry.key] = entry
    return Catalog(locale, entries, gettext.c2py(compiled.plural_expr))


def _entry(message: BabelMessage) -> Entry | None:
    plural = isinstance(message.id, list | tuple)
    ids = [str(i) for i in message.id] if plural else [str(message.id)]
    strings = message.string if isinstance(message.string, list | tuple) else (message.string,)
    # Compilers write the msgid in place of an untranslated plural form: that is no text.
    if not all(strings) or any(text in ids for text in strings):
        return None
    key = ids[0]
    try:
        forms = tuple(Text.parse(str(text)) for text in strings)
    except CatalogError as exc:
        raise CatalogError(f"{key}: {exc}") from exc
    return Entry(key, forms, plural)
