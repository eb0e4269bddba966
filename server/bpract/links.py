"""Which URLs the server lets a visitor's browser follow: absolute http(s) and site paths.

A link the server sends (a citation, a rule's call to action) is either an absolute
``http``/``https`` URL with a host, or a path on the host page's own site (``/help``).
Everything a browser might read as something else is refused rather than repaired:
other schemes (``javascript:``, ``data:``, ``vbscript:``), scheme-relative and
backslash forms (``//evil.example``, ``/\\evil.example``), whitespace and control
characters (browsers drop tabs and newlines inside a URL, so ``java\\tscript:`` is
``javascript:``), percent-encoded separators that decode to one of those, and
userinfo (``https://shop.example@evil.example/`` goes to ``evil.example``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final
from urllib.parse import unquote, urlsplit

__all__ = ["MAX_LINK", "is_site_path", "safe_link"]

#: Longest link accepted (browsers and servers differ beyond this).
MAX_LINK: Final = 2048

_SCHEMES: Final = ("http", "https")
_LABEL: Final = r"[^\W_](?:[\w-]*[^\W_])?"
_HOST: Final = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}|\[[0-9a-fA-F:.]+\]")
# tab, newline, form feed … and the invisible ones: bidi overrides, zero-width spaces
_INVISIBLE: Final = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Cs", "Co", "Cn"})


def _clean(text: str) -> bool:
    """No backslash, whitespace or control character; no encoded backslash or control either."""
    if "\\" in text or any(unicodedata.category(c) in _INVISIBLE for c in text):
        return False
    decoded = unquote(text)
    return "\\" not in decoded and not any(unicodedata.category(c) == "Cc" for c in decoded)


def is_site_path(url: str) -> bool:
    """``/help/sizing?x=1#faq``: a path on the host page's own site, and nothing more."""
    if not url.startswith("/") or len(url) > MAX_LINK or not _clean(url):
        return False
    decoded = unquote(url)
    # "//host" and "/%2Fhost" leave the site; so would "/%09/host" once a tab is dropped
    return not decoded.startswith("//")


def _is_absolute(url: str) -> bool:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in _SCHEMES or len(url) > MAX_LINK or not _clean(url):
        return False
    parts = urlsplit(url)
    netloc = parts.netloc
    if not netloc or "@" in netloc or "%" in netloc or not rest.startswith(netloc):
        return False
    try:
        port = parts.port
    except ValueError:
        return False
    host = netloc.rsplit(":", 1)[0] if port is not None or netloc.endswith(":") else netloc
    return bool(_HOST.fullmatch(host))


def safe_link(url: object) -> str | None:
    """``url`` itself if a browser may follow it (see above), else None."""
    if not isinstance(url, str) or not url:
        return None
    if url.startswith("/"):
        return url if is_site_path(url) else None
    return url if _is_absolute(url) else None
