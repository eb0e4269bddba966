"""BPract behaviour engine (standard library only)."""
