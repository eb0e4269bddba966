"""Agents' passwords: Argon2id hashes at argon2-cffi's default parameters.

A sign-in for an address no agent has is checked against :func:`dummy_hash`, so that
it costs the same time as a wrong password for a real agent.
"""

from __future__ import annotations

import secrets
from functools import cache
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bpract.inbox.errors import InboxError

__all__ = ["MIN_LENGTH", "dummy_hash", "generate", "hash_password", "needs_rehash", "verify"]

MIN_LENGTH: Final = 12
"""The shortest password an agent may be given."""

_HASHER: Final = PasswordHasher()


@cache
def dummy_hash() -> str:
    """The hash of a password nobody knows, with the same parameters as every real one."""
    return _HASHER.hash(secrets.token_urlsafe(32))


def generate() -> str:
    """A strong random password (24 url-safe characters, 144 bits)."""
    return secrets.token_urlsafe(18)


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (raises :class:`InboxError` when it is too short)."""
    if len(password) < MIN_LENGTH:
        raise InboxError(f"a password needs at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def verify(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (in constant time)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's defaults."""
    return _HASHER.check_needs_rehash(password_hash)
