"""Rules of plans and their features: what a valid plan is, and what an update changes."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from nudges_kit.errors import BadInput, Conflict
from nudges_product.domain.model import SUPPORT_TIERS, Plan, PlanFeatures, SupportTier

MAX_NAME = 100
MAX_DESCRIPTION = 2000
MAX_URL = 2048
MAX_MESSAGES_PER_PERIOD = 10_000_000


def _no_control_characters(value: str, field: str, allowed: str = "") -> None:
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
        raise BadInput(f"{field} contains control characters", field=field)


def plan_name(value: str, field: str = "name") -> str:
    """A plan or tier name: trimmed, 1 to 100 characters, no control characters."""
    name = value.strip()
    if not name or len(name) > MAX_NAME:
        raise BadInput(f"{field} must be 1 to {MAX_NAME} characters", field=field)
    _no_control_characters(name, field)
    return name


def plan_description(value: str, field: str = "description") -> str:
    """A description: trimmed, at most 2000 characters (empty is fine), line breaks and tabs
    but no other control characters."""
    description = value.strip()
    if len(description) > MAX_DESCRIPTION:
        raise BadInput(f"{field} must be at most {MAX_DESCRIPTION} characters", field=field)
    _no_control_characters(description, field, allowed="\n\t")
    return description


def icon_url(value: str | None, field: str = "iconUrl") -> str | None:
    """An absolute http(s) URL, or None (no icon)."""
    if value is None or not value.strip():
        return None
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL:
        raise BadInput(f"{field} must be an absolute http(s) URL", field=field)
    return url


def plan_features(
    messages_per_period: int,
    support_tier: str,
    ai_assist: bool,
    field: str = "features",
) -> PlanFeatures:
    """Features checked: a non-negative message allowance and a known support tier."""
    if not 0 <= messages_per_period <= MAX_MESSAGES_PER_PERIOD:
        raise BadInput(
            f"{field}.messagesPerPeriod must be between 0 and {MAX_MESSAGES_PER_PERIOD}",
            field=f"{field}.messagesPerPeriod",
        )
    if support_tier not in SUPPORT_TIERS:
        raise BadInput(
            f"{field}.supportTier must be one of {', '.join(SUPPORT_TIERS)}",
            field=f"{field}.supportTier",
        )
    tier: SupportTier = support_tier  # type: ignore[assignment]
    return PlanFeatures(messages_per_period, tier, ai_assist)


@dataclass(frozen=True)
class PlanChanges:
    """What an admin asked to change, unchecked; None leaves a value as it is
    (``clear_icon`` removes the icon)."""

    name: str | None = None
    description: str | None = None
    icon_url: str | None = None
    clear_icon: bool = False
    features: PlanFeatures | None = None


@dataclass(frozen=True)
class PlanUpdate:
    """The plan and features after an update, and whether anything a user sees changed."""

    plan: Plan
    features: PlanFeatures
    changed: bool


def update_plan(plan: Plan, features: PlanFeatures, changes: PlanChanges) -> PlanUpdate:
    """Apply ``changes``, each checked like a new plan's; archived plans do not change."""
    if not plan.active:
        raise Conflict("an archived plan cannot change")
    updated = plan
    if changes.name is not None:
        updated = replace(updated, name=plan_name(changes.name))
    if changes.description is not None:
        updated = replace(updated, description=plan_description(changes.description))
    if changes.clear_icon:
        updated = replace(updated, icon_url=None)
    elif changes.icon_url is not None:
        updated = replace(updated, icon_url=icon_url(changes.icon_url))
    new_features = changes.features or features
    return PlanUpdate(updated, new_features, updated != plan or new_features != features)
