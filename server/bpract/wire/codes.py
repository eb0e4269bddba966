"""What the protocol names: its version, close codes, error codes and size limits."""

from __future__ import annotations

from enum import IntEnum
from typing import Final

__all__ = [
    "ALL_ERRORS",
    "IDENTITY_REJECTED",
    "INVALID",
    "MALFORMED",
    "MAX_FREE_DEPTH",
    "MAX_FREE_KEY_CHARS",
    "MAX_FREE_TEXT_CHARS",
    "MAX_FREE_VALUES",
    "MAX_MESSAGE_CHARS",
    "MAX_SAFE_INT",
    "PROTOCOL_VERSION",
    "RATE_LIMITED",
    "SUPPORTED_VERSIONS",
    "UNKNOWN_RULE",
    "UNKNOWN_TYPE",
    "CloseCode",
]

PROTOCOL_VERSION: Final = 1
#: Longest visitor chat message, in characters (a longer one is refused as ``invalid``).
MAX_MESSAGE_CHARS: Final = 2000
SUPPORTED_VERSIONS: Final = (1,)

#: Largest magnitude of any number a client sends (JavaScript's ``Number.MAX_SAFE_INTEGER`` + 1):
#: seqs, times and every number inside free-form objects; beyond it is ``invalid``.
MAX_SAFE_INT: Final = 2**53
# Bounds of the free-form objects of client frames (``data``, ``context``, ``traits``,
# ``event``); a value past one is refused as ``invalid``.
#: Objects and arrays nested inside the field, the field itself included.
MAX_FREE_DEPTH: Final = 8
#: Values (keys' values and array items, at every depth) in one field.
MAX_FREE_VALUES: Final = 1000
#: Longest key, in characters.
MAX_FREE_KEY_CHARS: Final = 128
#: Longest string value, in characters.
MAX_FREE_TEXT_CHARS: Final = 8192

# Error codes of recoverable refusals (the ``code`` of an ``error`` frame).
MALFORMED: Final = "malformed"
UNKNOWN_TYPE: Final = "unknown_type"
INVALID: Final = "invalid"
UNKNOWN_RULE: Final = "unknown_rule"
IDENTITY_REJECTED: Final = "identity_rejected"
RATE_LIMITED: Final = "rate_limited"
ALL_ERRORS: Final = (
    MALFORMED,
    UNKNOWN_TYPE,
    INVALID,
    UNKNOWN_RULE,
    IDENTITY_REJECTED,
    RATE_LIMITED,
)


class CloseCode(IntEnum):
    """Fatal refusals: the socket closes with one of these codes (the name is the reason)."""

    too_big = 1009
    internal = 1011
    bad_hello = 4400
    unsupported_version = 4401
    forbidden_origin = 4403
    unknown_site = 4404
    hello_timeout = 4408
    idle_timeout = 4410
    flood = 4429
    too_many_connections = 4430
