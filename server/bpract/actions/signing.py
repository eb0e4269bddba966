"""The signed pending-action token: what the widget sends back to confirm one exact call.

A token binds a pending action's public id to the site, the conversation, the
visitor's verified identity (or none), the action's name, a digest of the
exact arguments and an expiry, under an HMAC-SHA256 of the server's secret::

    v1.<base64url payload>.<base64url mac>

The payload is those fields as a JSON array, with a short id of the key that
signed it, so that a token from before a secret rotation is told apart from a
forged one.  :func:`verify` fails closed with a :class:`SignatureError` whose
``reason`` names what did not hold, for the audit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import astuple, dataclass
from typing import Literal

import msgspec

from bpract.errors import BpractError

__all__ = [
    "MAX_TOKEN",
    "PendingFields",
    "Reason",
    "SignatureError",
    "arguments_digest",
    "pending_id",
    "read_pending_id",
    "sign",
    "verify",
]

Reason = Literal[
    "malformed",  # not a token of ours: shape, encoding, length
    "wrong_key",  # signed with another secret (one rotated since, another server's)
    "tampered",  # our key id, a MAC that does not match the payload
    "other_pending",  # a valid token for another pending action
    "other_site",
    "other_conversation",
    "other_identity",
    "other_action",
    "other_arguments",
    "expired",
]

#: The longest token accepted (and made): every field is bounded, see :class:`PendingFields`.
MAX_TOKEN = 1024
MIN_SECRET = 32
_VERSION = "v1"
_DOMAIN = b"bpract pending action v1\n"
_MAX_FIELD = 128
_DIGEST = 64  # hex characters of a SHA-256


class SignatureError(BpractError):
    """A pending-action token that does not confirm what it is checked against."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason: Reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingFields:
    """What a token binds; ids are at most 128 bytes of printable text, the digest SHA-256 hex."""

    pending_id: str
    site_id: int
    conversation_id: str
    identity: str
    """The verified user id, or ``""`` for a visitor with no verified identity."""
    action: str
    arguments_digest: str
    """:func:`arguments_digest` of the exact arguments the call will carry."""
    expires_ms: int
    """Milliseconds since the epoch after which the token confirms nothing."""


class _Payload(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    key_id: str
    pending_id: str
    site_id: int
    conversation_id: str
    identity: str
    action: str
    arguments_digest: str
    expires_ms: int


_decoder = msgspec.json.Decoder(_Payload)


def arguments_digest(arguments: object) -> str:
    """SHA-256 (hex) of the arguments as canonical JSON: sorted keys, no whitespace, UTF-8,
    no NaN or infinity (refused, ValueError), so equal arguments always give one digest."""
    text = json.dumps(
        arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(text.encode()).hexdigest()


def pending_id() -> str:
    """A fresh random public id for a pending action (22 url-safe characters, 128 bits)."""
    return secrets.token_urlsafe(16)


def _key(secret: bytes) -> bytes:
    if len(secret) < MIN_SECRET:
        raise ValueError(f"the signing secret must be at least {MIN_SECRET} bytes")
    return secret


def _key_id(secret: bytes) -> str:
    tag = hmac.new(_key(secret), b"bpract pending action key id", hashlib.sha256).digest()
    return _b64(tag[:6])


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(_key(secret), _DOMAIN + payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _B64_ALPHABET for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _check_fields(fields: PendingFields) -> None:
    # Bounds that keep the encoded token under MAX_TOKEN: no JSON escape can grow a field.
    texts = (fields.pending_id, fields.conversation_id, fields.identity, fields.action)
    if not fields.pending_id or any(
        len(t.encode()) > _MAX_FIELD or not t.isprintable() or '"' in t or "\\" in t for t in texts
    ):
        raise ValueError(
            f"pending-action ids and names are 1-{_MAX_FIELD} bytes of printable text,"
            ' without " or \\'
        )
    if not all(0 <= n < 2**63 for n in (fields.site_id, fields.expires_ms)):
        raise ValueError("the site id and the expiry are 64-bit and not negative")
    digest = fields.arguments_digest
    if len(digest) != _DIGEST or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("the arguments digest must be SHA-256 hex")


def sign(secret: bytes, fields: PendingFields) -> str:
    """The url-safe token for ``fields`` (at most :data:`MAX_TOKEN` characters)."""
    _check_fields(fields)
    payload = msgspec.json.encode(_Payload(_key_id(secret), *astuple(fields)))
    token = f"{_VERSION}.{_b64(payload)}.{_b64(_mac(secret, payload))}"
    if len(token) > MAX_TOKEN:
        raise ValueError("the pending-action token would be too long")
    return token


def _read(token: str) -> tuple[bytes, bytes, _Payload]:
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        raise SignatureError("malformed", "the confirmation token is not one of ours")
    parts = token.split(".")
    try:
        if len(parts) != 3 or parts[0] != _VERSION:
            raise ValueError("shape")
        payload, mac = _unb64(parts[1]), _unb64(parts[2])
        decoded = _decoder.decode(payload)
    except (ValueError, binascii.Error, msgspec.DecodeError):
        raise SignatureError("malformed", "the confirmation token is not one of ours") from None
    return payload, mac, decoded


def read_pending_id(token: str) -> str:
    """The pending id a token names, *unverified*: only to look up what to :func:`verify`."""
    return _read(token)[2].pending_id


def verify(secret: bytes, token: str, expected: PendingFields, now_ms: int) -> PendingFields:
    """``expected`` if ``token`` was signed with ``secret`` for exactly those fields and has
    not expired at ``now_ms``; else :class:`SignatureError` with the first reason found."""
    payload, mac, got = _read(token)
    if not hmac.compare_digest(got.key_id, _key_id(secret)):
        raise SignatureError("wrong_key", "the confirmation was signed with another key")
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise SignatureError("tampered", "the confirmation's signature does not match")
    checks: tuple[tuple[Reason, object, object, str], ...] = (
        ("other_pending", got.pending_id, expected.pending_id, "another pending action"),
        ("other_pending", got.expires_ms, expected.expires_ms, "another issue of it"),
        ("other_site", got.site_id, expected.site_id, "another site"),
        ("other_conversation", got.conversation_id, expected.conversation_id, "another chat"),
        ("other_identity", got.identity, expected.identity, "another identity"),
        ("other_action", got.action, expected.action, "another action"),
        ("other_arguments", got.arguments_digest, expected.arguments_digest, "other arguments"),
    )
    for reason, found, wanted, what in checks:
        if found != wanted:
            raise SignatureError(reason, f"the confirmation is for {what}")
    if now_ms >= got.expires_ms:
        raise SignatureError("expired", "the confirmation has expired")
    return expected
