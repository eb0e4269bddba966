"""SQL migrations of the sites feature."""
