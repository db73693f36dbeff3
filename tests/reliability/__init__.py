"""Reliability suites: a package, so that the platform fixture ends with them."""
