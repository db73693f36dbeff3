"""Money: integer minor units and ISO 4217 currencies (stored lowercase, as Stripe writes them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from nudges_kit.errors import BadInput
from nudges_product.domain.model import BillingInterval

#: The largest amount Stripe accepts for a price (eight digits of minor units).
MAX_AMOUNT = 99_999_999

#: Active ISO 4217 currency codes (funds and precious metals left out).
ISO_CURRENCIES = frozenset(
    [
        "aed",
        "afn",
        "all",
        "amd",
        "ang",
        "aoa",
        "ars",
        "aud",
        "awg",
        "azn",
        "bam",
        "bbd",
        "bdt",
        "bgn",
        "bhd",
        "bif",
        "bmd",
        "bnd",
        "bob",
        "brl",
        "bsd",
        "btn",
        "bwp",
        "byn",
        "bzd",
        "cad",
        "cdf",
        "chf",
        "clp",
        "cny",
        "cop",
        "crc",
        "cup",
        "cve",
        "czk",
        "djf",
        "dkk",
        "dop",
        "dzd",
        "egp",
        "ern",
        "etb",
        "eur",
        "fjd",
        "fkp",
        "gbp",
        "gel",
        "ghs",
        "gip",
        "gmd",
        "gnf",
        "gtq",
        "gyd",
        "hkd",
        "hnl",
        "htg",
        "huf",
        "idr",
        "ils",
        "inr",
        "iqd",
        "irr",
        "isk",
        "jmd",
        "jod",
        "jpy",
        "kes",
        "kgs",
        "khr",
        "kmf",
        "kpw",
        "krw",
        "kwd",
        "kyd",
        "kzt",
        "lak",
        "lbp",
        "lkr",
        "lrd",
        "lsl",
        "lyd",
        "mad",
        "mdl",
        "mga",
        "mkd",
        "mmk",
        "mnt",
        "mop",
        "mru",
        "mur",
        "mvr",
        "mwk",
        "mxn",
        "myr",
        "mzn",
        "nad",
        "ngn",
        "nio",
        "nok",
        "npr",
        "nzd",
        "omr",
        "pab",
        "pen",
        "pgk",
        "php",
        "pkr",
        "pln",
        "pyg",
        "qar",
        "ron",
        "rsd",
        "rub",
        "rwf",
        "sar",
        "sbd",
        "scr",
        "sdg",
        "sek",
        "sgd",
        "shp",
        "sle",
        "sos",
        "srd",
        "ssp",
        "stn",
        "svc",
        "syp",
        "szl",
        "thb",
        "tjs",
        "tmt",
        "tnd",
        "top",
        "try",
        "ttd",
        "twd",
        "tzs",
        "uah",
        "ugx",
        "usd",
        "uyu",
        "uzs",
        "ves",
        "vnd",
        "vuv",
        "wst",
        "xaf",
        "xcd",
        "xcg",
        "xof",
        "xpf",
        "yer",
        "zar",
        "zmw",
        "zwg",
    ]
)

#: Months per billing interval, to bring a price to its monthly value.
MONTHS_PER_INTERVAL: dict[BillingInterval, Decimal] = {
    "week": Decimal(12) / Decimal(52),
    "month": Decimal(1),
    "year": Decimal(12),
}


def currency(value: str, field: str = "currency") -> str:
    """``value`` as a known ISO 4217 code, lowercase; either case is accepted."""
    code = value.strip().lower()
    if code not in ISO_CURRENCIES:
        raise BadInput(f"{field} must be an ISO 4217 currency code, not {value!r}", field=field)
    return code


def amount(value: int, field: str = "amount", minimum: int = 0) -> int:
    """``value`` checked as an amount of minor units Stripe accepts."""
    if value < minimum:
        raise BadInput(f"{field} must be at least {minimum} (minor units)", field=field)
    if value > MAX_AMOUNT:
        raise BadInput(f"{field} must be at most {MAX_AMOUNT} (minor units)", field=field)
    return value


@dataclass(frozen=True)
class Money:
    """An amount of minor units of one currency."""

    amount: int
    currency: str


def monthly_recurring_revenue(
    prices: Iterable[tuple[int, str, BillingInterval, int]],
) -> list[Money]:
    """MRR per currency from ``(amount, currency, interval, subscriptions)`` rows: weekly prices
    count 52/12 times a month, yearly ones a twelfth; rounded half up once per currency."""
    totals: dict[str, Decimal] = {}
    for price, code, interval, count in prices:
        monthly = Decimal(price) * count / MONTHS_PER_INTERVAL[interval]
        totals[code] = totals.get(code, Decimal(0)) + monthly
    return [
        Money(int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP)), code)
        for code, total in sorted(totals.items())
    ]
