"""Ingestion: every format, idempotent re-runs, changed and deleted documents, model changes."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import apsw
import numpy as np
import pytest

from bpract.kb import (
    KnowledgeBase,
    ModelMismatchError,
    OpenAIEmbedder,
    SourceError,
    embed_pending,
    ingest,
)
from bpract.store import Database

from .conftest import HttpSite, Route
from .pdfs import make_pdf


def counts(db: Database) -> dict[str, int]:
    def q(conn: apsw.Connection) -> dict[str, int]:
        tables = ("kb_documents", "kb_chunks", "kb_fts", "kb_vectors")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}

    return db.run_sync(q)


def write_help_centre(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "returns.md").write_text(
        "# Returns\n\n## Refund times\nRefunds reach your card within 5 to 10 business days.\n"
    )
    (root / "shipping.html").write_text(
        "<title>Shipping</title><nav>menu</nav><h1>Shipping</h1>"
        "<h2>Delivery</h2><p>Parcels arrive in 3 to 5 working days.</p>"
    )
    (root / "sizing.txt").write_text("Sizing guide\n\nJackets run small: order one size up.\n")
    (root / "warranty.pdf").write_bytes(
        make_pdf(["Every jacket has a two-year warranty."], title="Warranty")
    )
    (root / ".hidden.md").write_text("# Secret\n\nnot for the index\n")
    (root / "image.png").write_bytes(b"\x89PNG")


async def test_every_format_ingests_with_metadata(kb: KnowledgeBase, tmp_path: Path) -> None:
    write_help_centre(tmp_path / "help")
    report = await ingest(kb, 1, str(tmp_path / "help"))
    assert (report.added, report.updated, report.deleted, report.failed) == (4, 0, 0, [])
    assert report.embedded == report.chunks == counts(kb.db)["kb_vectors"]
    rows = kb.db.run_sync(
        lambda c: c.execute(
            "SELECT d.title, c.section, d.updated_at FROM kb_chunks c "
            "JOIN kb_documents d ON d.id = c.doc_id ORDER BY d.title"
        ).fetchall()
    )
    titles = {r[0]: r[1] for r in rows}
    assert titles == {
        "Returns": "Refund times",
        "Shipping": "Delivery",
        "Sizing guide": "Sizing guide",
        "Warranty": "Warranty (p. 1)",
    }
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", r[2]) for r in rows)
    for query, title in [
        ("how long does a refund take", "Returns"),
        ("when will my parcel arrive", "Shipping"),
        ("jacket too small which size", "Sizing guide"),
        ("guarantee period", "Warranty"),
    ]:
        assert (await kb.search(1, query, k=1))[0].title == title, query


async def test_reingest_is_idempotent(kb: KnowledgeBase, tmp_path: Path) -> None:
    write_help_centre(tmp_path / "help")
    await ingest(kb, 1, str(tmp_path / "help"))
    before = kb.db.run_sync(lambda c: c.execute("SELECT id, text FROM kb_chunks").fetchall())
    again = await ingest(kb, 1, str(tmp_path / "help"))
    assert (again.added, again.updated, again.unchanged, again.deleted) == (0, 0, 4, 0)
    assert (again.chunks, again.embedded) == (0, 0)
    after = kb.db.run_sync(lambda c: c.execute("SELECT id, text FROM kb_chunks").fetchall())
    assert before == after


async def test_changed_and_deleted_documents(kb: KnowledgeBase, tmp_path: Path) -> None:
    root = tmp_path / "help"
    write_help_centre(root)
    await ingest(kb, 1, str(root))
    (root / "returns.md").write_text(
        "# Returns\n\n## Refund times\nRefunds now arrive within 48 hours by bank transfer.\n"
    )
    (root / "sizing.txt").unlink()
    report = await ingest(kb, 1, str(root))
    assert (report.added, report.updated, report.unchanged, report.deleted) == (0, 1, 2, 1)
    c = counts(kb.db)
    assert c["kb_documents"] == 3
    assert c["kb_chunks"] == c["kb_fts"] == c["kb_vectors"] == 3
    top = (await kb.search(1, "how long does a refund take", k=1))[0]
    assert "48 hours" in top.text
    assert not await kb.search(1, "5 to 10 business days", k=5, mode="bm25") or all(
        "5 to 10" not in p.text for p in await kb.search(1, "5 to 10 business days", k=5)
    )
    assert all(p.title != "Sizing guide" for p in await kb.search(1, "jacket sizes", k=5))


async def test_single_file_and_refusals(kb: KnowledgeBase, tmp_path: Path) -> None:
    write_help_centre(tmp_path)
    report = await ingest(kb, 2, str(tmp_path / "returns.md"))
    assert report.added == 1
    with pytest.raises(SourceError, match="unsupported file type"):
        await ingest(kb, 2, str(tmp_path / "image.png"))
    with pytest.raises(SourceError, match="no such file"):
        await ingest(kb, 2, str(tmp_path / "missing"))
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 not really")
    report = await ingest(kb, 2, str(tmp_path / "bad.pdf"))
    assert report.added == 0 and "not a readable PDF" in report.failed[0]


def fake_vector(text: str, dim: int) -> list[float]:
    """A bag-of-words hash embedding: the same words give the same direction."""
    v = np.zeros(dim)
    for word in re.findall(r"\w+", text.lower()):
        v[int(hashlib.sha256(word.encode()).hexdigest(), 16) % dim] += 1.0
    return list(v / max(np.linalg.norm(v), 1e-9))


class EmbeddingsApi(HttpSite):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.texts = 0

    def post(self, path: str, payload: dict[str, object]) -> Route:
        if path != "/v1/embeddings":
            return (404, "application/json", b"{}")
        texts = payload["input"]
        assert isinstance(texts, list)
        self.texts += len(texts)
        data = [
            {"object": "embedding", "index": i, "embedding": fake_vector(t, self.dim)}
            for i, t in enumerate(texts)
        ]
        body = {
            "object": "list",
            "data": data,
            "model": payload["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
        return (200, "application/json", json.dumps(body).encode())


@pytest.fixture
def embeddings_api() -> EmbeddingsApi:
    api = EmbeddingsApi(dim=64)
    api.thread.start()
    yield api  # type: ignore[misc]
    api.server.shutdown()
    api.server.server_close()


async def test_model_change_reembeds(
    kb: KnowledgeBase, tmp_path: Path, embeddings_api: EmbeddingsApi
) -> None:
    write_help_centre(tmp_path / "help")
    await ingest(kb, 1, str(tmp_path / "help"))
    chunks = counts(kb.db)["kb_chunks"]
    other = KnowledgeBase(kb.db, OpenAIEmbedder(embeddings_api.url + "/v1", "fake-embed", "key"))
    with pytest.raises(ModelMismatchError, match="bpract kb reindex"):
        await other.search(1, "refund")
    assert (await other.search(1, "refund", mode="bm25"))[0].title == "Returns"

    assert await embed_pending(other) == chunks
    model = kb.db.run_sync(lambda c: c.execute("SELECT model, dim FROM kb_index").fetchone())
    assert model == ("openai:fake-embed", 64)
    assert counts(kb.db)["kb_vectors"] == chunks
    assert embeddings_api.texts >= chunks
    top = (await other.search(1, "refunds reach your card", k=1, mode="vector"))[0]
    assert top.title == "Returns" and top.similarity is not None
    with pytest.raises(ModelMismatchError):
        await kb.search(1, "refund")
    assert await embed_pending(other) == 0  # nothing left to do
    assert await embed_pending(kb) == chunks  # and back again
    assert (await kb.search(1, "how long does a refund take", k=1))[0].title == "Returns"
