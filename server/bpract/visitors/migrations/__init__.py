"""SQL migrations of the visitor tables."""
