"""Wires LocalizationApi once: catalogs from disk into the renderer and its use cases."""

from __future__ import annotations

from nudges_localization.adapters.catalog_files import PACKAGE_CATALOGS, load_catalogs
from nudges_localization.domain.renderer import Renderer
from nudges_localization.service_layer.rendering import RenderingService
from nudges_localization.settings import LocalizationSettings


def build_rendering_service(settings: LocalizationSettings) -> RenderingService:
    """The rendering use cases over the configured (or shipped) compiled catalogs."""
    catalogs = load_catalogs(settings.catalog_dir or PACKAGE_CATALOGS)
    return RenderingService(Renderer(catalogs, default_locale=settings.default_locale))
