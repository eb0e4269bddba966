"""Vector search of the knowledge base: the interface and its SQLite implementation."""
