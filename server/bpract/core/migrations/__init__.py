"""SQL migrations of the core tables."""
