"""Model providers behind one small interface: Anthropic, OpenAI-style servers, offline."""

from __future__ import annotations

from bpract.llm.providers.base import Provider
from bpract.llm.providers.offline import OfflineProvider

__all__ = ["OfflineProvider", "Provider"]
