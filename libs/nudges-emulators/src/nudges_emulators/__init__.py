"""Local Stripe and Twilio emulators for development and tests."""
