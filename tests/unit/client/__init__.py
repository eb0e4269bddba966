"""Tests of the behaviour engine ``bpract_client`` under CPython with a fake clock."""
