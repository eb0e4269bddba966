"""The visitor protocol, owned by no feature: frames, codes, channel names, frame handlers."""

from __future__ import annotations

from bpract.wire.channels import site_channel, visitor_channel
from bpract.wire.codes import (
    ALL_ERRORS,
    IDENTITY_REJECTED,
    INVALID,
    MALFORMED,
    MAX_MESSAGE_CHARS,
    PROTOCOL_VERSION,
    RATE_LIMITED,
    SUPPORTED_VERSIONS,
    UNKNOWN_RULE,
    UNKNOWN_TYPE,
    CloseCode,
)
from bpract.wire.handlers import ENGINE_SEQ, FollowUp, FrameHandlers, Visit

__all__ = [
    "ALL_ERRORS",
    "ENGINE_SEQ",
    "IDENTITY_REJECTED",
    "INVALID",
    "MALFORMED",
    "MAX_MESSAGE_CHARS",
    "PROTOCOL_VERSION",
    "RATE_LIMITED",
    "SUPPORTED_VERSIONS",
    "UNKNOWN_RULE",
    "UNKNOWN_TYPE",
    "CloseCode",
    "FollowUp",
    "FrameHandlers",
    "Visit",
    "site_channel",
    "visitor_channel",
]
