"""Repositories over userdb and clients of other systems."""
