"""Where requests enter the service."""
