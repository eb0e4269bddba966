"""Signed pending-action tokens: a round trip, and every way one must fail closed."""

from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import replace

import pytest

from bpract.actions.signing import (
    MAX_TOKEN,
    PendingFields,
    SignatureError,
    arguments_digest,
    pending_id,
    read_pending_id,
    sign,
    verify,
)

URL_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
SECRET = b"s" * 32
OTHER_SECRET = b"t" * 32
NOW = 1_800_000_000_000
ARGS = {"account_id": "u_1001", "amount_cents": 500, "reason": "damaged item"}
FIELDS = PendingFields(
    pending_id="pa_Zk3x",
    site_id=7,
    conversation_id="c_42",
    identity="u_1001",
    action="refund_damaged_item",
    arguments_digest=arguments_digest(ARGS),
    expires_ms=NOW + 600_000,
)


def reason(secret: bytes, token: str, expected: PendingFields, now: int = NOW) -> str:
    with pytest.raises(SignatureError) as caught:
        verify(secret, token, expected, now)
    return caught.value.reason


def test_a_token_round_trips_and_names_its_pending_id() -> None:
    token = sign(SECRET, FIELDS)
    assert verify(SECRET, token, FIELDS, NOW) == FIELDS
    assert read_pending_id(token) == "pa_Zk3x"


def test_a_token_is_url_safe_and_bounded() -> None:
    longest = replace(
        FIELDS, pending_id="p" * 128, conversation_id="c" * 128, identity="é" * 64,
        action="a" * 128, site_id=2**62, expires_ms=2**62,
    )  # fmt: skip
    for fields in (FIELDS, longest):
        token = sign(SECRET, fields)
        assert len(token) <= MAX_TOKEN
        assert set(token) <= URL_SAFE
    for wrong in ("u" * 129, "é" * 65, "a\nb", 'a"b', "a\\b"):
        with pytest.raises(ValueError, match="1-128 bytes"):
            sign(SECRET, replace(FIELDS, identity=wrong))
    with pytest.raises(ValueError, match="64-bit"):
        sign(SECRET, replace(FIELDS, site_id=-1))


@pytest.mark.parametrize(
    ("change", "expected_reason"),
    [
        ({"pending_id": "pa_other"}, "other_pending"),
        ({"expires_ms": NOW + 900_000}, "other_pending"),
        ({"site_id": 8}, "other_site"),
        ({"conversation_id": "c_43"}, "other_conversation"),
        ({"identity": "u_2002"}, "other_identity"),
        ({"identity": ""}, "other_identity"),
        ({"action": "cancel_membership"}, "other_action"),
        ({"arguments_digest": arguments_digest({**ARGS, "amount_cents": 5000})}, "other_arguments"),
    ],
)
def test_a_valid_token_for_anything_else_fails_closed(
    change: dict[str, object], expected_reason: str
) -> None:
    token = sign(SECRET, FIELDS)
    assert reason(SECRET, token, replace(FIELDS, **change)) == expected_reason


def test_an_anonymous_visitors_token_does_not_confirm_for_a_signed_in_one() -> None:
    anonymous = replace(FIELDS, identity="")
    assert reason(SECRET, sign(SECRET, anonymous), FIELDS) == "other_identity"


def test_an_expired_token_fails_closed() -> None:
    token = sign(SECRET, FIELDS)
    assert verify(SECRET, token, FIELDS, FIELDS.expires_ms - 1) == FIELDS
    assert reason(SECRET, token, FIELDS, FIELDS.expires_ms) == "expired"
    assert reason(SECRET, token, FIELDS, FIELDS.expires_ms + 1) == "expired"


def test_a_token_signed_with_another_secret_fails_closed() -> None:
    assert reason(SECRET, sign(OTHER_SECRET, FIELDS), FIELDS) == "wrong_key"


def _payload(token: str) -> list[object]:
    part = token.split(".")[1]
    decoded: list[object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _with_payload(token: str, payload: list[object]) -> str:
    version, _, mac = token.split(".")
    encoded = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return f"{version}.{encoded}.{mac}"


@pytest.mark.parametrize("index", range(1, 8))
def test_a_payload_altered_in_any_field_is_tampered(index: int) -> None:
    token = sign(SECRET, FIELDS)
    payload = _payload(token)
    value = payload[index]
    payload[index] = value + 1 if isinstance(value, int) else f"{value}x"
    altered = _with_payload(token, payload)
    # Altered to match what the server expects, so only the signature can catch it.
    named = dict(zip(PendingFields.__dataclass_fields__, payload[1:], strict=True))
    expected = PendingFields(**named)
    assert reason(SECRET, altered, expected) == "tampered"


def test_a_flipped_signature_is_tampered() -> None:
    version, payload, mac = sign(SECRET, FIELDS).split(".")
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    assert reason(SECRET, f"{version}.{payload}.{flipped}", FIELDS) == "tampered"
    assert reason(SECRET, f"{version}.{payload}.{mac[:-4]}", FIELDS) == "tampered"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v1",
        "v1..",
        "v2.abc.def",
        "v1.abc",
        "v1.a.b.c",
        "v1.!!!.abc",
        "v1.e30.abc",  # {} is not a payload
        "v1.W10.abc",  # [] neither
        "v1." + "A" * (MAX_TOKEN + 1) + ".abc",
        "v1.bm90IGpzb24.abc",
    ],
)
def test_a_malformed_token_fails_closed(token: str) -> None:
    assert reason(SECRET, token, FIELDS) == "malformed"
    with pytest.raises(SignatureError):
        read_pending_id(token)


def test_an_extra_field_in_the_payload_is_malformed() -> None:
    token = sign(SECRET, FIELDS)
    assert reason(SECRET, _with_payload(token, [*_payload(token), "x"]), FIELDS) == "malformed"


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        sign(b"short", FIELDS)


def test_the_arguments_digest_is_canonical() -> None:
    same = {"reason": "damaged item", "amount_cents": 500, "account_id": "u_1001"}
    assert arguments_digest(ARGS) == arguments_digest(same)
    assert arguments_digest({"a": 1}) != arguments_digest({"a": 1.0})
    assert arguments_digest({"a": "1"}) != arguments_digest({"a": 1})
    assert arguments_digest({"a": [1, 2]}) != arguments_digest({"a": [2, 1]})
    canonical = '{"account_id":"u_1001","amount_cents":500,"reason":"damaged item"}'
    assert arguments_digest(ARGS) == hashlib.sha256(canonical.encode()).hexdigest()
    with pytest.raises(ValueError, match="Out of range float"):
        arguments_digest({"a": math.nan})


def test_pending_ids_are_random_and_url_safe() -> None:
    ids = {pending_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 22 and i.replace("-", "").replace("_", "").isalnum() for i in ids)
