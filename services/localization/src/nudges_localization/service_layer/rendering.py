"""The use cases of LocalizationApi: render one text, render one text in many locales."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from nudges_kit.localization import (
    InvalidParameter,
    LocalizationError,
    MissingMessage,
    MissingParameter,
)
from nudges_kit.logging import get_logger
from nudges_localization.domain.locales import normalize
from nudges_localization.domain.renderer import Renderer, Rendering
from nudges_localization.metrics import CATALOG_MESSAGES, FALLBACKS, RENDER_ERRORS, RENDERS

log = get_logger(__name__)


def error_reason(exc: LocalizationError) -> str:
    """The stable name of a render error (metrics label, gRPC trailing metadata)."""
    if isinstance(exc, MissingMessage):
        return "missing-message"
    if isinstance(exc, InvalidParameter):
        return "invalid-parameter"
    if isinstance(exc, MissingParameter):
        return "missing-parameter"
    return "error"


class RenderingService:
    """Renders texts and records what was rendered; parameter values are never logged."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        for locale, catalog in renderer.catalogs.items():
            CATALOG_MESSAGES.labels(locale).set(len(catalog.entries))

    def render(self, key: str, locale: str, params: Mapping[str, str]) -> Rendering:
        """The text of ``key`` for ``locale``; see :meth:`Renderer.render`."""
        try:
            rendering = self.renderer.render(key, locale, params)
        except LocalizationError as exc:
            self._refused(exc, key, [locale], params)
            raise
        self._rendered(key, {locale: rendering})
        return rendering

    def render_many(
        self, key: str, locales: Iterable[str], params: Mapping[str, str]
    ) -> dict[str, Rendering]:
        """The text of ``key`` for each locale, each catalog rendering it once."""
        wanted = list(dict.fromkeys(locales))
        try:
            renderings = self.renderer.render_many(key, wanted, params)
        except LocalizationError as exc:
            self._refused(exc, key, wanted, params)
            raise
        self._rendered(key, renderings)
        return renderings

    def _rendered(self, key: str, renderings: Mapping[str, Rendering]) -> None:
        for locale in {rendering.locale for rendering in renderings.values()}:
            RENDERS.labels(key, locale).inc()
        for requested, rendering in renderings.items():
            language = _language(requested)
            if language and language != _language(rendering.locale):
                FALLBACKS.inc()

    def _refused(
        self, exc: LocalizationError, key: str, locales: list[str], params: Mapping[str, str]
    ) -> None:
        reason = error_reason(exc)
        RENDER_ERRORS.labels(reason).inc()
        log.warning(
            "render refused",
            reason=reason,
            key=key,
            locales=locales[:10],
            params=sorted(params),
            error=str(exc),
        )


def _language(locale: str) -> str:
    return normalize(locale).split("_")[0]
