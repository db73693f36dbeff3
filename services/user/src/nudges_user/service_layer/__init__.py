"""Use cases: each opens a transaction, decides in the domain, writes events to the outbox."""
