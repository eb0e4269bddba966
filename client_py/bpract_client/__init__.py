"""BPract behaviour engine (standard library only)."""

from __future__ import annotations

from .backoff import Backoff, should_reconnect
from .client import Client, ConnectionState, Schedule, Transport
from .engine import Engine
from .outbox import Outbox
from .protocol import PROTOCOL_VERSION, CloseCode, ProtocolError, parse_server_frame
from .rules import EngineRuleset, Ruleset, glob_match, ruleset_from_dict

__all__ = [
    "PROTOCOL_VERSION",
    "Backoff",
    "Client",
    "CloseCode",
    "ConnectionState",
    "Engine",
    "EngineRuleset",
    "Outbox",
    "ProtocolError",
    "Ruleset",
    "Schedule",
    "Transport",
    "glob_match",
    "parse_server_frame",
    "ruleset_from_dict",
    "should_reconnect",
]
