"""The widget takes the protocol's names from ``widget/src/wire.js``, generated from the server."""

from __future__ import annotations

import re
from pathlib import Path

from bpract.wire import js
from bpract.wire.codes import CloseCode
from bpract.wire.frames import CLIENT_FRAMES, SERVER_FRAMES, tag_of

SRC = Path(__file__).resolve().parents[2] / "widget" / "src"


def test_wire_js_is_what_the_server_renders() -> None:
    assert js.TARGET == SRC / "wire.js"
    assert js.TARGET.read_text(encoding="utf-8") == js.render(), "run `python -m bpract.wire.js`"


def test_wire_js_names_every_frame_and_close_code() -> None:
    text = js.render()
    for frame in (*CLIENT_FRAMES, *SERVER_FRAMES):
        assert f'export const T_{tag_of(frame).upper()} = "{tag_of(frame)}";' in text
    for code in CloseCode:
        assert f"export const CLOSE_{code.name.upper()} = {int(code)};" in text


def test_widget_sources_spell_no_close_code_or_frame_type_themselves() -> None:
    numbers = "|".join(str(int(c)) for c in CloseCode)
    for path in sorted(SRC.glob("*.*js")):
        if path.name == "wire.js":
            continue
        source = path.read_text(encoding="utf-8")
        assert not re.search(rf"\b({numbers})\b", source), path.name
        assert not re.search(r'\bt: "', source), f"{path.name} builds a frame with a literal type"
