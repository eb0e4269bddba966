"""Static serving of the built widget: ``/widget.js`` and the versioned runtime under ``/w/``."""

from __future__ import annotations

from bpract.assets.routes import route_handlers

__all__ = ["route_handlers"]
