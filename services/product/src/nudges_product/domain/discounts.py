"""Rules of discount codes: exactly one of a percentage or an amount, and a coherent duration."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from nudges_kit.errors import BadInput
from nudges_product.domain import money
from nudges_product.domain.model import DISCOUNT_DURATIONS, DiscountDuration

#: What Stripe accepts in a promotion code, kept short enough to type from an SMS.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{3,40}$")
MAX_DURATION_MONTHS = 120


@dataclass(frozen=True)
class DiscountTerms:
    """A new discount code, validated (the code keeps the case the admin typed; it is unique
    case-insensitively)."""

    code: str
    percent_off: int | None
    amount_off: int | None
    currency: str | None
    duration: DiscountDuration
    duration_in_months: int | None
    max_redemptions: int | None
    expires_at: datetime | None


def discount_terms(
    *,
    code: str,
    percent_off: int | None,
    amount_off: int | None,
    currency: str | None,
    duration: str,
    duration_in_months: int | None,
    max_redemptions: int | None,
    expires_at: datetime | None,
    now: datetime,
) -> DiscountTerms:
    """Check a new discount code against every rule, naming the first field that breaks one."""
    code = code.strip()
    if not CODE_PATTERN.match(code):
        raise BadInput("code must be 3 to 40 letters, digits, '-' or '_' (no spaces)", field="code")
    if (percent_off is None) == (amount_off is None):
        field = "percentOff" if percent_off is not None else "amountOff"
        raise BadInput("give exactly one of percentOff and amountOff", field=field)
    if percent_off is not None:
        if not 1 <= percent_off <= 100:
            raise BadInput("percentOff must be between 1 and 100", field="percentOff")
        if currency is not None:
            raise BadInput("currency goes with amountOff, not percentOff", field="currency")
        checked_currency = None
    else:
        assert amount_off is not None
        money.amount(amount_off, field="amountOff", minimum=1)
        if currency is None:
            raise BadInput("currency is required with amountOff", field="currency")
        checked_currency = money.currency(currency)
    if duration not in DISCOUNT_DURATIONS:
        raise BadInput(f"duration must be one of {', '.join(DISCOUNT_DURATIONS)}", field="duration")
    if duration == "repeating":
        if duration_in_months is None or not 1 <= duration_in_months <= MAX_DURATION_MONTHS:
            raise BadInput(
                f"durationInMonths must be 1 to {MAX_DURATION_MONTHS} for a repeating discount",
                field="durationInMonths",
            )
    elif duration_in_months is not None:
        raise BadInput("durationInMonths is only for repeating discounts", field="durationInMonths")
    if max_redemptions is not None and max_redemptions < 1:
        raise BadInput("maxRedemptions must be at least 1", field="maxRedemptions")
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise BadInput("expiresAt needs a time zone offset", field="expiresAt")
        if expires_at <= now:
            raise BadInput("expiresAt must be in the future", field="expiresAt")
    return DiscountTerms(
        code=code,
        percent_off=percent_off,
        amount_off=amount_off,
        currency=checked_currency,
        duration=duration,  # type: ignore[arg-type]
        duration_in_months=duration_in_months,
        max_redemptions=max_redemptions,
        expires_at=expires_at,
    )
