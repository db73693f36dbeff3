#!/usr/bin/env bash
# Compile the gettext catalogs of LocalizationApi (locales/*/LC_MESSAGES/messages.po) into the
# .mo files it loads (not committed: `make install` and the container builds run this).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=services/localization/src/nudges_localization/locales
${UV:-uv} run --frozen pybabel compile --statistics --domain messages --directory "$dir"
