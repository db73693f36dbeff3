"""Users, admins, clients, subscribers, memberships and announcements as rules (no I/O)."""
