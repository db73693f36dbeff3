"""Where ProductApi touches other systems: productdb (repository, plan change notices)."""
