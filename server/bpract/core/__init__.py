"""Core tables: sites, admin tokens, visitors, sessions, the frame inbox, signals, engine states."""
