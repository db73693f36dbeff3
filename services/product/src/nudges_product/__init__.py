"""ProductApi: plans, price tiers, features, plan subscriptions, discount codes."""
