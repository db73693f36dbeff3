"""UserApi: users, clients, subscribers, memberships and announcements."""
