"""Where documents come from: local files and folders, single URLs, sitemaps, same-site crawls."""

from __future__ import annotations

from bpract.kb.sources.base import Raw
from bpract.kb.sources.files import read_file, walk
from bpract.kb.sources.web import WebSource

__all__ = ["Raw", "WebSource", "read_file", "walk"]
