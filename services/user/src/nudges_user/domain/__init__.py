"""Users, admins, clients, subscribers and memberships as plain objects (no I/O)."""
