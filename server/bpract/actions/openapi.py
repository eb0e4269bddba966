"""Declared actions made from chosen operations of an OpenAPI 3 document.

Each operation gives its method and path, its path and query parameters and its
JSON request body (``$ref`` to ``#/components/...`` resolved) as the
``parameters`` schema, its summary as the description, and a kind from its
method (GET and HEAD read, the rest write).  What an OpenAPI document cannot say
— confirmation, limits, bindings, messages — is left to the author.
"""

from __future__ import annotations

import re
from typing import Any

from bpract.actions.errors import ActionsInvalidError, FieldError
from bpract.actions.spec import FORMAT_VERSION
from bpract.shape import join_path

__all__ = ["import_operations"]

_METHODS = ("get", "post", "put", "patch", "delete")
_MAX_DEPTH = 32


def _snake(operation_id: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", operation_id)
    name = re.sub(r"[^a-zA-Z0-9]+", "_", name).strip("_").lower()
    return name if re.match(r"^[a-z]", name) else f"op_{name}"


def _resolve(document: dict[str, Any], node: Any, where: str, depth: int = 0) -> Any:
    """``node`` with every local ``$ref`` replaced by what it names."""
    if depth > _MAX_DEPTH:
        raise ActionsInvalidError(
            [FieldError(path=where, message="$ref nested too deep (a cycle?)")]
        )
    if isinstance(node, list):
        return [_resolve(document, item, where, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith("#/"):
            message = f"only local references (#/…) are read, not {ref!r}"
            raise ActionsInvalidError([FieldError(path=where, message=message)])
        target: Any = document
        for escaped in ref[2:].split("/"):
            part = escaped.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise ActionsInvalidError([FieldError(path=where, message=f"{ref!r} not found")])
            target = target[part]
        return _resolve(document, target, where, depth + 1)
    return {k: _resolve(document, v, join_path(where, k), depth + 1) for k, v in node.items()}


def _operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId → (method, path, operation)."""
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, dict) and isinstance(operation.get("operationId"), str):
                merged = {
                    **operation,
                    "parameters": [*shared, *(operation.get("parameters") or [])],
                }
                found[operation["operationId"]] = (method.upper(), str(path), merged)
    return found


def _action(
    document: dict[str, Any], method: str, path: str, operation: dict[str, Any]
) -> dict[str, Any]:
    where = f"paths.{path}.{method.lower()}"
    properties: dict[str, Any] = {}
    required: list[str] = []
    for raw in _resolve(document, operation.get("parameters") or [], where):
        if not isinstance(raw, dict) or raw.get("in") not in ("path", "query"):
            continue
        if not isinstance(raw.get("name"), str):
            raise ActionsInvalidError(
                [FieldError(path=where, message="a parameter without a name")]
            )
        schema = dict(raw.get("schema") or {"type": "string"})
        if raw.get("description"):
            schema.setdefault("description", raw["description"])
        properties[raw["name"]] = schema
        if raw.get("required") or raw.get("in") == "path":
            required.append(raw["name"])
    content = (operation.get("requestBody") or {}).get("content") or {}
    body = _resolve(document, (content.get("application/json") or {}).get("schema"), where)
    if isinstance(body, dict) and body.get("type", "object") == "object":
        properties.update(body.get("properties") or {})
        required.extend(n for n in body.get("required") or [] if n not in required)
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    description = operation.get("summary") or operation.get("description") or ""
    kind = "read" if method == "GET" else "write"
    return {
        "name": _snake(operation["operationId"]),
        "description": str(description).strip() or operation["operationId"],
        "examples": [],
        "method": method,
        "path": path,
        "kind": kind,
        "confirm": "never" if kind == "read" else "always",
        "parameters": parameters,
    }


def import_operations(
    document: object,
    operation_ids: list[str],
    *,
    base_url: str | None = None,
    auth_env: str | None = None,
) -> dict[str, Any]:
    """An action set (as a mapping, for YAML) from the chosen operations of ``document``."""
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3"):
        raise ActionsInvalidError([FieldError(path="openapi", message="not an OpenAPI 3 document")])
    operations = _operations(document)
    errors = [
        FieldError(
            path="--operation",
            message=f"no operation {op!r} (known: {', '.join(sorted(operations))})",
        )
        for op in operation_ids
        if op not in operations
    ]
    servers = document.get("servers") or []
    url = base_url or (servers[0].get("url") if servers and isinstance(servers[0], dict) else None)
    if not url or not str(url).startswith(("http://", "https://")):
        errors.append(FieldError(path="servers", message="no absolute server URL: give --base-url"))
    if errors:
        raise ActionsInvalidError(errors)
    actions = [_action(document, *operations[op]) for op in operation_ids]
    if auth_env:
        for action in actions:
            action["auth"] = {"env": auth_env}
    return {"version": FORMAT_VERSION, "base_url": str(url).rstrip("/"), "actions": actions}
