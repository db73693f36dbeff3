"""The copies of an announcement for its audience, rendered by LocalizationApi and quoted as
:mod:`nudges_kit.sms_text` counts them: what the SMS dialogue's draft reply and the web
composer's preview both show, and what the fan-out sends."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from nudges_kit import localization as texts
from nudges_kit.localization import LocalizationClient
from nudges_kit.sms_text import AnnouncementQuote, audience_locales, compose_announcement


async def quote_announcement(
    l10n: LocalizationClient,
    client_name: str,
    body: str,
    audience: Mapping[str, int],
    fallback_locale: str,
) -> AnnouncementQuote:
    """``body`` from ``client_name`` as each locale of ``audience`` (active subscribers per
    locale) receives it, with its segments and total; with nobody in the audience, the copy
    in ``fallback_locale`` (the client's own)."""
    locales = audience_locales(audience, fallback_locale)
    body_lines, opt_outs = await asyncio.gather(
        l10n.render_many(texts.ANNOUNCEMENT_BODY, locales, client_name=client_name, body=body),
        l10n.render_many(texts.ANNOUNCEMENT_OPT_OUT, locales),
    )
    copies = {loc: compose_announcement(body_lines[loc], opt_outs[loc]) for loc in locales}
    return AnnouncementQuote.of(body, audience, copies)
