"""Webhooks: Stripe and Twilio webhooks and the SMS command dialogue."""
