"""A local Stripe: the official ``stripe`` library works against it unchanged, and it sends
webhooks signed as Stripe signs them."""
