"""Tests of the actions feature: declared actions, the audit, the executor, signed confirmations."""
