"""The house rules of ``bpract``'s imports: the layer contract holds, and no feature reaches
into another feature's private modules or names."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "server" / "bpract"
_LINT = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"


def _lint_imports(
    cwd: Path, *args: str, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath or REPO / "server")}
    return subprocess.run(
        [sys.executable, "-c", _LINT, *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_layer_contract_holds() -> None:
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contract_catches_a_cycle(tmp_path: Path) -> None:
    """The same kind of contract, on a package whose two features import each other."""
    pkg = tmp_path / "house"
    (pkg / "chat").mkdir(parents=True)
    (pkg / "visitors").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "chat" / "__init__.py").write_text("from house import visitors\n")
    (pkg / "visitors" / "__init__.py").write_text("from house import chat\n")
    (tmp_path / "contract.toml").write_text(
        '[tool.importlinter]\nroot_packages = ["house"]\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "features"\ntype = "layers"\nlayers = ["house.chat | house.visitors"]\n'
    )
    result = _lint_imports(tmp_path, "--config", "contract.toml", pythonpath=tmp_path)
    assert result.returncode != 0
    assert "house.chat is not allowed to import house.visitors" in result.stdout


def _feature(module: str) -> str:
    """``bpract.chat.service`` → ``chat``; a top-level module is its own feature."""
    return module.split(".")[1] if module.count(".") >= 1 else module


def _private(parts: list[str]) -> bool:
    return any(p.startswith("_") and not p.startswith("__") for p in parts)


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def private_reaches(source: str, importer: str) -> Iterator[str]:
    """``from bpract.<other feature>…`` imports in ``source`` of private modules or names."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom) or not node.module or node.level:
            continue
        if not node.module.startswith("bpract.") or _feature(node.module) == _feature(importer):
            continue
        names = [a.name for a in node.names]
        if _private(node.module.split(".")) or _private(names):
            yield f"{importer}: from {node.module} import {', '.join(names)}"


def test_private_reaches_are_found() -> None:
    found = list(private_reaches("from bpract.chat.service import _draft\n", "bpract.visitors.x"))
    assert found == ["bpract.visitors.x: from bpract.chat.service import _draft"]
    assert not list(private_reaches("from bpract.chat._x import y\n", "bpract.chat.service"))
    assert list(private_reaches("from bpract.chat._x import y\n", "bpract.kb.search"))


def test_no_feature_imports_another_features_private_parts() -> None:
    reaches = [
        reach
        for path in sorted(PACKAGE.rglob("*.py"))
        for reach in private_reaches(path.read_text(encoding="utf-8"), _module_name(path))
    ]
    assert reaches == []
