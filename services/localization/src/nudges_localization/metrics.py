"""Prometheus metrics of LocalizationApi (served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RENDERS = Counter(
    "nudges_localization_renders_total",
    "Texts rendered, by message key and the catalog locale used",
    ["key", "locale"],
)
RENDER_ERRORS = Counter(
    "nudges_localization_render_errors_total",
    "Render calls refused: missing-message, missing-parameter, invalid-parameter",
    ["reason"],
)
FALLBACKS = Counter(
    "nudges_localization_fallbacks_total",
    "Requested locales answered in another language (the default) for want of a text",
)
RPC_SECONDS = Histogram(
    "nudges_localization_rpc_seconds",
    "Time to answer one gRPC call",
    ["method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
CATALOG_MESSAGES = Gauge(
    "nudges_localization_catalog_messages", "Messages in the loaded catalog", ["locale"]
)
