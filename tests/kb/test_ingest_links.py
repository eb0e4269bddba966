"""A document's URL is stored only if a browser may follow it (``bpract.links``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpract.kb import KnowledgeBase, ingest


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://help.example/returns", "https://help.example/returns"),
        ("/help/returns", "/help/returns"),
        ("javascript:alert(1)", None),
        ("//evil.example/returns", None),
        ("/\\evil.example", None),
        ("data:text/html,<b>x</b>", None),
    ],
)
async def test_a_front_matter_url_is_kept_only_when_safe(
    kb: KnowledgeBase, tmp_path: Path, url: str, stored: str | None
) -> None:
    root = tmp_path / "help"
    root.mkdir()
    (root / "returns.md").write_text(f'---\nurl: "{url}"\n---\n# Returns\n\nRefunds in 5 days.\n')
    report = await ingest(kb, 1, str(root))
    assert report.added == 1
    rows = kb.db.run_sync(lambda c: c.execute("SELECT title, url FROM kb_documents").fetchall())
    assert [tuple(r) for r in rows] == [("Returns", stored)]
