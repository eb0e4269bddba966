"""The visitor WebSocket: protocol, connection lifecycle, rate limits and exactly-once storage."""
