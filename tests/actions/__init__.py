"""Tests of the actions feature: the executor, signed confirmations."""
