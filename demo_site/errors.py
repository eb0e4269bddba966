"""The one error the demo API raises: an HTTP status, a machine code and a sentence."""

from __future__ import annotations

__all__ = ["DemoApiError"]


class DemoApiError(Exception):
    """A refusal; rendered as ``{"error": code, "detail": detail}`` with ``status``."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail

    @classmethod
    def not_found(cls, what: str, ident: str) -> DemoApiError:
        return cls(404, "not_found", f"no {what} {ident!r}")
