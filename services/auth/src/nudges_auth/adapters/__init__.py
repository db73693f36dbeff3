"""Adapters: storage and clients of other systems."""
