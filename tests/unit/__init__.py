"""Unit tests: fast, no network, no browser."""
