"""SQL migrations of the chat feature."""
