"""Billing portal sessions: a customer's link to manage their subscriptions, and the hosted
page behind it (each subscription with its price and period, a button to cancel at the end
of the period or to keep it, and the way back to ``return_url``)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from nudges_emulators.stripe.checkout_page import money
from nudges_emulators.stripe.errors import parameter_missing
from nudges_emulators.stripe.params import ApiCall, accepts, opt_str
from nudges_emulators.stripe.state import StripeObject, StripeState, now, random_id

#: The portal configuration every session uses (the account's default one).
DEFAULT_CONFIGURATION = "bpc_emulatordefault"


@accepts({"customer": None, "return_url": None, "locale": None})
def create_session(state: StripeState, call: ApiCall) -> StripeObject:
    """``POST /v1/billing_portal/sessions``: a short-lived link to the hosted portal."""
    customer_id = opt_str(call.params, "customer")
    if customer_id is None:
        raise parameter_missing("customer")
    state.get("customer", customer_id, "customer")
    session_id = random_id("bps_")
    return state.add(
        "billing_portal.session",
        {
            "id": session_id,
            "object": "billing_portal.session",
            "configuration": DEFAULT_CONFIGURATION,
            "created": now(),
            "customer": customer_id,
            "flow": None,
            "livemode": False,
            "locale": opt_str(call.params, "locale"),
            "on_behalf_of": None,
            "return_url": opt_str(call.params, "return_url"),
            "url": f"{call.base_url}/billing_portal/{session_id}",
        },
    )


def _day(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%d %b %Y")


def render(session: StripeObject, subscriptions: list[StripeObject]) -> str:
    """The portal page of ``session``: the customer's subscriptions that are not canceled."""
    rows = []
    for sub in subscriptions:
        item = sub["items"]["data"][0]
        price = item["price"]
        ends = _day(item["current_period_end"])
        if sub["cancel_at_period_end"]:
            state, action, label = f"Ends on {ends}", "renew", "Keep my plan"
        else:
            state, action, label = f"Renews on {ends}", "cancel", "Cancel at period end"
        rows.append(
            "<tr><td>{price}</td><td>{status}</td><td>{state}</td><td><form method=post "
            'action="/billing_portal/{sid}/subscriptions/{sub}/{action}"><button>{label}</button>'
            "</form></td></tr>".format(
                price=f"{money(price['unit_amount'], price['currency'])} / "
                f"{escape(price['recurring']['interval'])}",
                status=escape(sub["status"]),
                state=escape(state),
                sid=escape(session["id"]),
                sub=escape(sub["id"]),
                action=action,
                label=label,
            )
        )
    back = session["return_url"]
    link = f'<p><a href="{escape(back)}">Return</a></p>' if back else ""
    table = "".join(rows) or "<tr><td colspan=4>No subscriptions</td></tr>"
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>Billing</title></head><body>"
        "<h1>Your subscriptions</h1><table><tr><th>Price</th><th>Status</th><th>Period</th>"
        f"<th></th></tr>{table}</table>{link}</body></html>"
    )
