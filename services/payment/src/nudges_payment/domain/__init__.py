"""The domain model: plain objects and decisions, no I/O."""
