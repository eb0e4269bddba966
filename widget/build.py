"""Build widget/dist/: loader, chat module, worker, Pyodide runtime and our wheel, precompressed."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import brotli  # type: ignore[import-untyped]

__all__ = ["build", "main"]

WIDGET = Path(__file__).resolve().parent
REPO = WIDGET.parent
SRC = WIDGET / "src"
DIST = WIDGET / "dist"
NODE_MODULES = WIDGET / "node_modules"
#: The OpenAPI viewer served under /schema/ui/ (swagger-ui-dist, pinned in package.json).
VIEWER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")
#: The console's charts (uPlot, pinned in package.json), served under /console/vendor/.
CHART_FILES = ("uPlot.iife.min.js", "uPlot.min.css")
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)


def _cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "bpract" / "widget"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"build needs `{name}` on PATH")
    return path


def _run(argv: list[str], cwd: Path) -> bytes:
    # argv is assembled here from fixed tool paths and our own file names
    return subprocess.run(argv, cwd=cwd, check=True, capture_output=True).stdout  # noqa: S603


def _ensure_node_modules() -> None:
    needed = (
        NODE_MODULES / ".bin" / "esbuild",
        NODE_MODULES / "swagger-ui-dist" / "package.json",
        NODE_MODULES / "uplot" / "package.json",
    )
    if not all(path.exists() for path in needed):
        _run([_tool("npm"), "ci", "--no-audit", "--no-fund"], WIDGET)


def _package_version(name: str) -> str:
    meta = json.loads((NODE_MODULES / name / "package.json").read_text())
    return str(meta["version"])


def _build_wheel(out: Path) -> Path:
    _run([_tool("uv"), "build", "--wheel", "--package", "bpract-client", "-o", str(out)], REPO)
    (wheel,) = out.glob("bpract_client-*-py3-none-any.whl")
    return wheel


def _build_id(wheel: bytes) -> str:
    digest = hashlib.sha256()
    for path in sorted(SRC.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(wheel)
    digest.update(f"pyodide {_package_version('pyodide')}".encode())
    digest.update(f"esbuild {_package_version('esbuild')}".encode())
    return digest.hexdigest()[:10]


def _esbuild(entry: Path, *args: str) -> bytes:
    cmd = [str(NODE_MODULES / ".bin" / "esbuild"), str(entry), "--minify", "--log-level=warning"]
    return _run([*cmd, *args], WIDGET)


def _compressed(data: bytes) -> tuple[bytes, bytes]:
    """Gzip-9 and brotli-11 of `data`, from the cache when this content was seen before."""
    cache = _cache_dir()
    key = hashlib.sha256(data).hexdigest()
    gz_path, br_path = cache / f"{key}.gz", cache / f"{key}.br"
    if not gz_path.exists():
        _write(gz_path, gzip.compress(data, 9, mtime=0))
    if not br_path.exists():
        _write(br_path, brotli.compress(data, quality=11))
    return gz_path.read_bytes(), br_path.read_bytes()


def _write(path: Path, data: bytes) -> None:
    """Write only when the content differs, atomically, so unchanged files keep their mtime."""
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _outputs(build_id: str, wheel: Path) -> dict[str, bytes]:
    base = f"w/{build_id}"
    loader = _esbuild(
        SRC / "loader.js",
        "--bundle",
        "--format=iife",
        "--target=es2019",
        "--banner:js=/* BPract Agents widget */",
        f"--define:__BUILD__={json.dumps(build_id)}",
    )
    worker = _esbuild(
        SRC / "worker.mjs",
        "--format=esm",
        "--target=es2020",
        f"--define:__WHEEL__={json.dumps(wheel.name)}",
    )
    chat = _esbuild(SRC / "conversation.mjs", "--bundle", "--format=esm", "--target=es2020")
    files = {
        "widget.js": b'"use strict";' + loader,
        f"{base}/worker.mjs": worker,
        f"{base}/chat.mjs": chat,
    }
    runtime = NODE_MODULES / "pyodide"
    for name in PYODIDE_FILES:
        files[f"{base}/pyodide/{name}"] = (runtime / name).read_bytes()
    files[f"{base}/{wheel.name}"] = wheel.read_bytes()
    viewer = NODE_MODULES / "swagger-ui-dist"
    for name in VIEWER_FILES:
        files[f"schema/{name}"] = (viewer / name).read_bytes()
    files["schema/viewer.js"] = (SRC / "schema-viewer.js").read_bytes()
    charts = NODE_MODULES / "uplot" / "dist"
    for name in CHART_FILES:
        files[f"console/{name}"] = (charts / name).read_bytes()
    return files


def _prune(keep: set[str]) -> None:
    """Drop files and build folders from earlier builds."""
    for path in sorted(DIST.rglob("*"), reverse=True):
        rel = path.relative_to(DIST).as_posix()
        if path.is_file() and rel not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def build() -> dict[str, object]:
    """Build widget/dist/ and return its manifest."""
    _ensure_node_modules()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _build_wheel(Path(tmp))
        build_id = _build_id(wheel.read_bytes())
        outputs = _outputs(build_id, wheel)
    sizes: dict[str, dict[str, int]] = {}
    keep = {"manifest.json"}
    for name, data in outputs.items():
        gz, br = _compressed(data)
        for suffix, content in (("", data), (".gz", gz), (".br", br)):
            _write(DIST / (name + suffix), content)
            keep.add(name + suffix)
        sizes[name] = {"raw": len(data), "gzip": len(gz), "br": len(br)}
    manifest: dict[str, object] = {"build": build_id, "files": sizes}
    _write(DIST / "manifest.json", json.dumps(manifest, indent=2).encode() + b"\n")
    _prune(keep)
    return manifest


def main() -> int:
    manifest = build()
    files = manifest["files"]
    assert isinstance(files, dict)
    print(f"build {manifest['build']} -> {DIST}")
    chat = f"w/{manifest['build']}/chat.mjs"
    for name, label in (("widget.js", "widget.js"), (chat, "chat.mjs")):
        sizes = files[name]
        print(f"{label:<10} raw {sizes['raw']} B  gzip {sizes['gzip']} B  br {sizes['br']} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
