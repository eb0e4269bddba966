"""Full-text search of the knowledge base: the interface and its SQLite (FTS5) implementation."""
