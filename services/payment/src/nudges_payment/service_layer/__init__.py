"""Use cases, each wiring the domain to its adapters."""
