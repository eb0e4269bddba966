"""SQL migrations of the tickets feature."""
