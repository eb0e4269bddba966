"""Parsers: headings become section paths, boilerplate is dropped, dates and titles are found."""

from __future__ import annotations

from bpract.kb.chunk import chunk_document
from bpract.kb.parse.dispatch import parse_bytes
from bpract.kb.parse.html import HtmlPage, parse_html
from bpract.kb.parse.markdown import parse_markdown
from bpract.kb.parse.pdf import parse_pdf
from bpract.kb.parse.text import parse_text
from bpract.kb.types import Document, Section

from .pdfs import make_pdf

MD = """---
title: Returns and refunds
updated: 2024-03-01
---
# Returns

Intro line.

## Refund times
Refunds take **5 to 10** business days. See [the form](https://x.test/form).

```
# not a heading
```

### By card
Card refunds are faster.
"""


def test_markdown_front_matter_headings_and_fences() -> None:
    doc = parse_markdown(MD, source="/a.md", url=None, fallback_title="A", updated_at="2000-01-01")
    assert doc.title == "Returns and refunds"
    assert doc.updated_at == "2024-03-01"
    headings = [s.heading for s in doc.sections]
    assert headings == ["Returns", "Returns > Refund times", "Returns > Refund times > By card"]
    refund = doc.sections[1].text
    assert "5 to 10" in refund and "**" not in refund and "the form" in refund
    assert "# not a heading" in refund


def test_markdown_without_front_matter_takes_h1_and_file_date() -> None:
    doc = parse_markdown(
        "# Sizing\n\nRuns small.\n",
        source="/s.md",
        url=None,
        fallback_title="S",
        updated_at="2025-05-05",
    )
    assert doc.title == "Sizing"
    assert doc.updated_at == "2025-05-05"
    assert doc.sections == (Section("Sizing", "Runs small."),)


PAGE = """<html><head><title>Shipping | Shop</title>
<meta property="article:modified_time" content="2025-01-10T10:00:00Z">
<link rel="canonical" href="https://shop.test/shipping"></head>
<body><nav><a href="/home">Home</a> menu words</nav>
<h1>Shipping</h1><p>Intro &amp; overview.</p>
<h2>Delivery <em>times</em></h2><p>Standard delivery takes 3&ndash;5 days.</p>
<script>var hidden = "script text";</script><style>.x{}</style>
<h2>Costs</h2><ul><li>Free above 50 EUR</li><li>4.90 EUR below</li></ul>
<footer>Copyright words</footer></body></html>"""


def test_html_drops_boilerplate_and_keeps_headings() -> None:
    page = parse_html(PAGE, source="u", url="u", fallback_title="F", updated_at=None)
    doc = page.document
    assert doc.title == "Shipping | Shop"
    assert doc.updated_at == "2025-01-10"
    text = " ".join(s.text for s in doc.sections)
    for dropped in ("menu words", "script text", "Copyright words", ".x{}"):
        assert dropped not in text
    assert [s.heading for s in doc.sections][1:] == [
        "Shipping > Delivery times",
        "Shipping > Costs",
    ]
    assert "3–5 days" in doc.sections[1].text
    assert doc.sections[2].text.splitlines() == ["Free above 50 EUR", "4.90 EUR below"]
    assert page.links == ["/home"]
    assert not page.noindex


def test_html_noindex_is_reported() -> None:
    page = parse_html(
        '<meta name="robots" content="noindex"><p>x</p>',
        source="u",
        url="u",
        fallback_title="F",
        updated_at=None,
    )
    assert page.noindex


def test_text_title_from_first_line() -> None:
    doc = parse_text(
        "Sizing guide\n\nOrder one size up.\n",
        source="/s.txt",
        url=None,
        fallback_title="S",
        updated_at=None,
    )
    assert doc.title == "Sizing guide"
    assert doc.sections == (Section("Sizing guide", "Order one size up."),)


def test_pdf_pages_and_outline_titles() -> None:
    data = make_pdf(
        ["Warranty terms cover two years.", "Claims need the receipt."],
        title="Warranty",
        outline=["Terms", "Claims"],
    )
    doc = parse_pdf(data, source="/w.pdf", url=None, fallback_title="W", updated_at=None)
    assert doc.title == "Warranty"
    assert [s.heading for s in doc.sections] == ["Terms (p. 1)", "Claims (p. 2)"]
    assert "two years" in doc.sections[0].text


def test_dispatch_returns_html_page_for_html() -> None:
    parsed = parse_bytes(
        b"<h1>T</h1><p>x</p>", "html", source="u", url="u", fallback_title="F", updated_at=None
    )
    assert isinstance(parsed, HtmlPage)


def test_long_sections_are_chunked_within_the_section() -> None:
    long_text = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(6))
    doc = Document(
        source="s",
        title="T",
        url=None,
        updated_at=None,
        sections=(Section("A", long_text), Section("B", "short")),
    )
    chunks = chunk_document(doc, max_words=160)
    assert [c.section for c in chunks] == ["A", "A", "A", "B"]
    assert all(len(c.text.split()) <= 160 for c in chunks)
    assert [c.ord for c in chunks] == [0, 1, 2, 3]
