"""Shared test support: a real server subprocess and helpers other tests reuse."""
