"""Shared building blocks of every Nudges service."""
