"""BPract Agents server."""
