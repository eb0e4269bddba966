"""Northwind Threads: a demo clothing store and membership that embeds the BPract tag."""

from __future__ import annotations

__all__: list[str] = []
