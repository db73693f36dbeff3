"""Local infrastructure for development and tests, and a supervisor for every service."""
