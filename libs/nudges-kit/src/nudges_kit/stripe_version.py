"""The Stripe API version the platform speaks.

Every Stripe client of the platform sends this version explicitly, and the webhook
handlers read objects in its shapes. It equals the ``stripe.api_version`` of the pinned
``stripe`` library (checked by the services' tests), so upgrading the library is a
deliberate change: bump the pin, this constant, and the readers of any changed shape.
"""

from __future__ import annotations

#: ``Stripe-Version`` of every request the platform makes.
STRIPE_API_VERSION = "2026-10-28.endive"
