"""Every event type of Nudges, declared once (SPEC §4). Import from here, never a topic string."""

from nudges_kit.events.catalog import auth, fanout, payment, product, providers, sms, user

__all__ = ["auth", "fanout", "payment", "product", "providers", "sms", "user"]
