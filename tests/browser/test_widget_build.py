"""The widget build: the layout the server serves, precompressed siblings, budget, idempotence."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import brotli  # type: ignore[import-untyped]

from browser.conftest import REPO

LOADER_BUDGET_BR = 6 * 1024  # loader and chat shell together
RUNTIME = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")


def manifest(dist: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((dist / "manifest.json").read_text())
    return data


def test_layout_matches_what_the_server_serves(widget_dist: Path) -> None:
    build = str(manifest(widget_dist)["build"])
    assert re.fullmatch(r"[0-9a-f]{10}", build)
    base = widget_dist / "w" / build
    expected = {"widget.js", f"w/{build}/worker.mjs", f"w/{build}/chat.mjs"}
    expected |= {f"w/{build}/pyodide/{name}" for name in (*RUNTIME, "pyodide-lock.json")}
    (wheel,) = base.glob("bpract_client-*-py3-none-any.whl")
    expected.add(f"w/{build}/{wheel.name}")
    # the OpenAPI viewer of /schema, served from here rather than a CDN
    expected |= {"schema/swagger-ui-bundle.js", "schema/swagger-ui.css", "schema/viewer.js"}
    # the console's charting library, likewise
    expected |= {"console/uPlot.iife.min.js", "console/uPlot.min.css"}
    files = manifest(widget_dist)["files"]
    assert isinstance(files, dict)
    assert set(files) == expected
    assert [p.name for p in (widget_dist / "w").iterdir()] == [build]  # older builds pruned
    # the worker loads the runtime beside it and names this build's wheel
    worker = (base / "worker.mjs").read_text()
    assert '"./pyodide/pyodide.mjs"' in worker and wheel.name in worker
    assert f"/w/{build}/" in (widget_dist / "widget.js").read_text()


def test_every_file_has_matching_compressed_siblings(widget_dist: Path) -> None:
    files = manifest(widget_dist)["files"]
    assert isinstance(files, dict)
    for name in files:
        if name.endswith((".wasm", ".zip", ".whl")):
            continue  # megabytes: sizes are checked below, contents by the browser tests
        raw = (widget_dist / name).read_bytes()
        assert gzip.decompress((widget_dist / f"{name}.gz").read_bytes()) == raw
        assert brotli.decompress((widget_dist / f"{name}.br").read_bytes()) == raw
    for name, sizes in files.items():
        on_disk = {
            "raw": (widget_dist / name).stat().st_size,
            "gzip": (widget_dist / f"{name}.gz").stat().st_size,
            "br": (widget_dist / f"{name}.br").stat().st_size,
        }
        assert sizes == on_disk, name


def test_loader_with_chat_fits_its_budget(widget_dist: Path) -> None:
    files = manifest(widget_dist)["files"]
    assert isinstance(files, dict)
    assert files["widget.js"]["br"] <= LOADER_BUDGET_BR


def test_a_second_build_changes_nothing(widget_dist: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in widget_dist.rglob("*") if p.is_file()}
    build = [sys.executable, str(REPO / "widget" / "build.py")]
    out = subprocess.run(build, check=True, capture_output=True, text=True).stdout
    assert f"build {manifest(widget_dist)['build']}" in out
    assert re.search(r"widget\.js\s+raw \d+ B\s+gzip \d+ B\s+br \d+ B", out)
    after = {p: p.stat().st_mtime_ns for p in widget_dist.rglob("*") if p.is_file()}
    assert after == before
