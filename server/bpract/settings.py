"""Server settings: one typed tree, read once from the environment.

Each feature declares its section beside its code, a frozen dataclass whose
fields name their variable and say what they mean::

    @dataclass(frozen=True, slots=True, kw_only=True)
    class ChatSettings:
        rate_per_minute: int = env("BPRACT_CHAT_RATE", 10)
        \"\"\"Messages one visitor may send per minute.\"\"\"

and reads it with ``settings.of(ChatSettings)``: the environment is captured
once, each section parsed once, and a variable that does not parse is a
:class:`SettingsError` naming it.  Secrets (model API keys) are not settings:
policies name the variable that holds a key, read when the provider is made.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import os
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from bpract.errors import BpractError

__all__ = [
    "REPO_ROOT",
    "Described",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "describe",
    "env",
    "get_settings",
    "read_section",
]

#: The source checkout this package runs from (the widget build lives beside it).
REPO_ROOT = Path(__file__).resolve().parents[2]

T = TypeVar("T")


class SettingsError(BpractError):
    """An environment variable holds a value its setting cannot take."""


def env(name: str, default: Any) -> Any:
    """A setting read from the variable ``name`` (``default`` when unset or empty)."""
    return field(default=default, metadata={"env": name})


def _parse(name: str, raw: str, kind: Any) -> Any:
    try:
        if kind is bool:
            lowered = raw.lower()
            if lowered not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
                raise ValueError(raw)
            return lowered in {"1", "true", "yes", "on"}
        return kind(raw)
    except ValueError:
        kind_name = getattr(kind, "__name__", str(kind))
        raise SettingsError(f"{name}={raw!r} is not a valid {kind_name}") from None


def read_section(section: type[T], environ: Mapping[str, str]) -> T:
    """``section`` with every field that names a variable set from ``environ``."""
    hints = get_type_hints(section)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(section):  # type: ignore[arg-type]
        name: str | None = f.metadata.get("env")
        raw = environ.get(name, "").strip() if name else ""
        if name and raw:
            values[f.name] = _parse(name, raw, hints[f.name])
    return section(**values)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    """Where the server keeps its data and how browsers reach it."""

    db: Path = env("BPRACT_DB", Path("./bpract.db"))
    """SQLite file; created and migrated on start-up."""

    host: str = env("BPRACT_HOST", "127.0.0.1")
    """Interface ``bpract serve`` binds."""

    port: int = env("BPRACT_PORT", 8000)
    """TCP port ``bpract serve`` binds."""

    public_url: str = env("BPRACT_PUBLIC_URL", "")
    """Base URL browsers reach this server at; empty: taken from each request."""

    widget_dist: Path = env("BPRACT_WIDGET_DIST", REPO_ROOT / "widget" / "dist")
    """Built widget folder served at ``/widget.js`` and ``/w/``."""

    log_bodies: bool = env("BPRACT_LOG_BODIES", False)
    """Let the model SDKs, httpx and the WebSocket stack log bodies at DEBUG (visitors'
    messages, prompts, answers); off by default. Card numbers and secrets stay redacted."""


class Settings:
    """The whole tree: the environment captured once, each section parsed on first use."""

    def __init__(self, environ: Mapping[str, str], sections: Mapping[type, object]) -> None:
        self._environ = dict(environ)
        self._sections: dict[type, object] = dict(sections)

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None, *sections: object) -> Settings:
        """Settings from ``environ`` (default: the process environment); any ``sections``
        given (e.g. ``ServerSettings(db=path)``) replace what the environment says."""
        environ = os.environ if environ is None else environ
        return cls(environ, {type(s): s for s in sections})

    def of(self, section: type[T]) -> T:
        """The section of type ``section``."""
        found = self._sections.get(section)
        if found is None:
            found = self._sections[section] = read_section(section, self._environ)
        assert isinstance(found, section)
        return found

    def replace(self, section: type[T], **changes: Any) -> Settings:
        """A copy with some fields of one section changed."""
        changed = dataclasses.replace(self.of(section), **changes)  # type: ignore[type-var]
        return Settings(self._environ, {**self._sections, section: changed})

    @property
    def server(self) -> ServerSettings:
        return self.of(ServerSettings)


@cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings.read()


@dataclass(frozen=True, slots=True)
class Described:
    """One setting as ``bpract settings`` shows it."""

    variable: str
    section: str
    field: str
    default: str
    doc: str


def describe(section: type) -> list[Described]:
    """The fields of ``section`` that name a variable, with their docstrings."""
    docs = _field_docs(section)
    return [
        Described(f.metadata["env"], section.__name__, f.name, str(f.default), docs.get(f.name, ""))
        for f in dataclasses.fields(section)
        if "env" in f.metadata
    ]


def _field_docs(section: type) -> dict[str, str]:
    # A field's docstring is the string statement right after it, as Sphinx reads it.
    tree = ast.parse(textwrap.dedent(inspect.getsource(section)))
    body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for node, after in itertools.pairwise(body):
        named = isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        if named and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            assert isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
            docs[node.target.id] = " ".join(str(after.value.value).split())
    return docs
