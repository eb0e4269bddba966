"""The prebuilt ``ack`` text is the ``Ack`` frame, byte for byte, and the client reads it."""

from __future__ import annotations

import pytest

from bpract.wire.frames import Ack, ack_text, encode
from bpract_client import protocol as client


@pytest.mark.parametrize("seq", [1, 7, 42, 10**9, 2**53])
def test_ack_text_is_the_encoded_ack_frame(seq: int) -> None:
    assert ack_text(seq) == encode(Ack(seq=[seq])).decode()
    assert client.parse_server_frame(ack_text(seq)) == {"t": "ack", "seq": [seq]}
