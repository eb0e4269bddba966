"""HTML: text and headings with the standard library parser; navigation and scripts dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from bpract.kb.parse.sections import SectionBuilder, iso_date
from bpract.kb.types import Document

__all__ = ["HtmlPage", "parse_html"]

_SKIP = frozenset(
    {
        "script",
        "style",
        "nav",
        "header",
        "footer",
        "aside",
        "noscript",
        "template",
        "svg",
        "form",
        "button",
        "iframe",
        "select",
        "head",
    }
)
_BLOCK = frozenset(
    {
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "tr",
        "table",
        "section",
        "article",
        "main",
        "br",
        "pre",
        "blockquote",
        "dd",
        "dt",
        "dl",
        "hr",
        "figcaption",
        "details",
        "summary",
    }
)
# Block ends that close a paragraph (chunks split between paragraphs).
_PARAGRAPHS = frozenset({"p", "ul", "ol", "table", "pre", "blockquote", "section", "article", "dl"})
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_DATE_META = (
    "article:modified_time",
    "og:updated_time",
    "last-modified",
    "dc.modified",
    "dcterms.modified",
    "article:published_time",
    "date",
)


@dataclass(slots=True)
class HtmlPage:
    """What the crawler and the indexer need from one page."""

    document: Document
    links: list[str] = field(default_factory=list)
    noindex: bool = False


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = SectionBuilder()
        self.title = ""
        self.meta: dict[str, str] = {}
        self.links: list[str] = []
        self._skip = 0
        self._in_title = False
        self._heading: tuple[int, list[str]] | None = None
        self._line: list[str] = []

    def _newline(self, paragraph: bool = False) -> None:
        text = " ".join("".join(self._line).split())
        if text:
            self.builder.line(text)
        if paragraph:
            self.builder.line("")
        self._line = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "title":
            self._in_title = True
        elif tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("http-equiv") or "").lower()
            self.meta[key] = a.get("content", "")
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in _SKIP:
            self._skip += 1
        elif tag in _HEADINGS and not self._skip:
            self._newline()
            self._heading = (_HEADINGS[tag], [])
        elif tag in _BLOCK:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _HEADINGS and self._heading is not None:
            level, parts = self._heading
            self._heading = None
            self.builder.heading(level, "".join(parts))
        elif tag in _BLOCK:
            self._newline(paragraph=tag in _PARAGRAPHS)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._skip:
            return
        elif self._heading is not None:
            self._heading[1].append(data)
        else:
            self._line.append(data)


def parse_html(
    text: str, *, source: str, url: str | None, fallback_title: str, updated_at: str | None
) -> HtmlPage:
    p = _Parser()
    p.feed(text)
    p.close()
    p._newline()
    date = next((iso_date(p.meta[k]) for k in _DATE_META if iso_date(p.meta.get(k))), None)
    title = " ".join(
        (p.meta.get("og:title") or p.title or p.builder.first_h1 or fallback_title).split()
    )
    doc = Document(
        source=source,
        title=title,
        url=url,
        updated_at=date or updated_at,
        sections=p.builder.sections(title),
    )
    return HtmlPage(doc, p.links, "noindex" in p.meta.get("robots", "").lower())
