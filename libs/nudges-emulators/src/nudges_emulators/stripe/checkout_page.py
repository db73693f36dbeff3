"""The hosted checkout page a payer (or a person trying ``make dev``) sees at a session's
``url``: what is bought, for how much, and Pay / Fail buttons."""

from __future__ import annotations

from html import escape

from nudges_emulators.stripe.state import StripeObject

#: Currencies without minor units, shown as whole amounts.
_ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg",
                           "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"})  # fmt: skip


def money(amount: int, currency: str) -> str:
    """``1999, "usd"`` as ``19.99 USD``."""
    if currency.lower() in _ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    return f"{amount / 100:.2f} {currency.upper()}"


def render(session: StripeObject, line_items: list[StripeObject]) -> str:
    """The page of ``session``."""
    sid = escape(session["id"])
    rows = "".join(
        "<tr><td>{name}</td><td>{qty}</td><td>{unit} / {interval}</td><td>{total}</td></tr>".format(
            name=escape(item["description"] or ""),
            qty=item["quantity"],
            unit=money(item["price"]["unit_amount"], item["currency"]),
            interval=escape(item["price"]["recurring"]["interval"]),
            total=money(item["amount_subtotal"], item["currency"]),
        )
        for item in line_items
    )
    currency = session["currency"]
    discount = session["total_details"]["amount_discount"]
    discount_row = (
        f"<tr><td colspan=3>Discount</td><td>-{money(discount, currency)}</td></tr>"
        if discount
        else ""
    )
    if session["status"] == "open":
        actions = f"""
  <form method="post" action="/_emulator/checkout/{sid}/complete?redirect=true">
    <button type="submit" id="pay">Pay {money(session["amount_total"], currency)}</button>
  </form>
  <form method="post" action="/_emulator/checkout/{sid}/fail?redirect=true">
    <button type="submit" id="fail">Fail (card declined)</button>
  </form>"""
    else:
        actions = f"<p id=status>This checkout session is {escape(session['status'])}.</p>"
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Checkout (Stripe emulator)</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}
table{{border-collapse:collapse;width:100%}}td,th{{padding:.4em;border-bottom:1px solid #ddd}}
form{{display:inline-block;margin:1em 1em 0 0}}button{{font-size:1.1em;padding:.5em 1em}}</style>
</head>
<body>
  <h1>Checkout</h1>
  <p>Stripe emulator &middot; session <code>{sid}</code></p>
  <table>
    <tr><th>Item</th><th>Qty</th><th>Price</th><th>Amount</th></tr>
    {rows}{discount_row}
    <tr><th colspan=3>Total due today</th><th>{money(session["amount_total"], currency)}</th></tr>
  </table>
  {actions}
</body>
</html>"""
