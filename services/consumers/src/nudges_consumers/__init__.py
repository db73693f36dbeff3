"""Consumers: Kafka workers for Stripe and Twilio, announcement fan-out and notifications."""
