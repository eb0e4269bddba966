"""Fast retrieval: the bit pre-filter against the exact search, read-only search connections,
the query cache, and the migration that moved vectors out of ``kb_vec``."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path

import apsw
import numpy as np
import numpy.typing as npt
import pytest

from bpract.features import MIGRATIONS
from bpract.kb import (
    Document,
    Fusion,
    KnowledgeBase,
    MiniLMEmbedder,
    ModelMismatchError,
    Section,
    add_documents,
    embed_pending,
    index,
)
from bpract.kb.embed import Vectors
from bpract.kb.textindex import sqlite as textindex
from bpract.kb.vectors import sqlite as vectors
from bpract.kb.vectors.bitscan import BitScan
from bpract.store import Database, Readers, migrate
from bpract.store.migrate import pending

CORE = tuple(m for m in MIGRATIONS if m.feature in ("sites", "visitors"))
WITH_KB = tuple(m for m in MIGRATIONS if m.feature in ("sites", "visitors", "kb"))
KB = tuple(m for m in MIGRATIONS if m.feature in ("kb"))

FACTS = [
    "Refunds reach your card within 5 to 10 business days.",
    "Standard delivery takes three working days.",
    "Express delivery arrives the next working day if you order before noon.",
    "Use the 'Forgot password' link on the sign-in page to reset your password.",
    "Two-factor authentication can be turned on under Account > Security.",
    "Invoices are emailed on the first day of each month.",
    "You can change your billing address in the Billing tab.",
    "Gift cards never expire and can be used for any product.",
    "Returns are free within 30 days of delivery.",
    "We ship to the EU, the UK, Norway and Switzerland.",
    "Customs duties for orders outside the EU are paid by the customer.",
    "A cancelled order is refunded to the original payment method.",
    "Our support team answers emails within one business day.",
    "The mobile app works on iOS 15 and Android 10 or newer.",
    "Exports are available as CSV or JSON from the Reports page.",
    "Team plans include up to 25 seats; more seats cost 4 euros each.",
    "Deleting your account removes your data after a 14-day grace period.",
    "Discount codes cannot be combined with other offers.",
    "Items on sale can be exchanged but not refunded.",
    "Parcels can be tracked with the link in the shipping confirmation.",
    "API keys are created under Settings > Developers.",
    "Webhooks retry failed deliveries five times over one hour.",
    "Single sign-on with SAML is part of the Enterprise plan.",
    "The free plan keeps 30 days of history.",
]
QUESTIONS = [
    "how long until I get my money back",
    "when will my parcel arrive",
    "I forgot my password",
    "do gift cards expire",
    "can I use two coupons at once",
    "where do I find my API key",
    "is there SSO",
    "what phones are supported",
]


def doc(i: int, text: str) -> Document:
    return Document(
        source=f"fact{i}",
        title=f"Fact {i}",
        url=None,
        updated_at=None,
        sections=(Section("", text),),
    )


async def seed(kb: KnowledgeBase) -> None:
    await add_documents(kb, 1, "facts", [doc(i, t) for i, t in enumerate(FACTS)])
    await add_documents(kb, 2, "facts", [doc(100, "Partner refunds are approved by finance.")])


def exact(conn: apsw.Connection, site_id: int, vector: Vectors, k: int) -> list[int]:
    """The true nearest chunks: cosine against every stored vector of the site."""
    rows = conn.execute(
        "SELECT chunk_id, embedding FROM kb_vectors WHERE site_id = ?", (site_id,)
    ).fetchall()
    m = np.stack([np.frombuffer(e, dtype=np.int8).astype(np.float32) for _, e in rows])
    sims = (m / np.linalg.norm(m, axis=1, keepdims=True)) @ vector
    return [int(rows[i][0]) for i in np.argsort(-sims, kind="stable")[:k]]


def ids(hits: Sequence[tuple[int, float]]) -> list[int]:
    return [c for c, _ in hits]


async def test_prefilter_with_a_wide_shortlist_is_exact(
    kb: KnowledgeBase, minilm: MiniLMEmbedder
) -> None:
    await seed(kb)
    for question in QUESTIONS:
        v = minilm.embed([question])[0]
        got = kb.db.run_sync(lambda c, v=v: vectors.knn(c, 1, v, 5, scan=BitScan()))
        assert ids(got) == kb.db.run_sync(lambda c, v=v: exact(c, 1, v, 5)), question
        assert all(-1.0 <= s <= 1.0 for _, s in got)
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)


async def test_a_narrow_shortlist_stays_close_to_exact(
    kb: KnowledgeBase, minilm: MiniLMEmbedder
) -> None:
    await seed(kb)
    found = 0
    for question in QUESTIONS:
        v = minilm.embed([question])[0]
        truth = kb.db.run_sync(lambda c, v=v: exact(c, 1, v, 3))
        # 10 of 24 chunks by Hamming distance, then re-scored: the best three survive.
        got = ids(
            kb.db.run_sync(lambda c, v=v: vectors.knn(c, 1, v, 3, scan=BitScan(), shortlist=10))
        )
        assert got[0] == truth[0], question
        found += len(set(got) & set(truth))
    assert found >= 0.9 * 3 * len(QUESTIONS)


async def test_prefilter_keeps_tenants_apart(kb: KnowledgeBase, minilm: MiniLMEmbedder) -> None:
    await seed(kb)
    v = minilm.embed(["partner refunds finance"])[0]
    scan = BitScan()
    two = kb.db.run_sync(lambda c: vectors.knn(c, 2, v, 10, scan=scan, shortlist=1000))
    assert len(two) == 1
    one = kb.db.run_sync(lambda c: vectors.knn(c, 1, v, 100, scan=scan, shortlist=1000))
    assert len(one) == len(FACTS) and ids(two)[0] not in ids(one)
    assert kb.db.run_sync(lambda c: vectors.knn(c, 3, v, 5, scan=scan)) == []


async def test_bit_scan_reloads_after_an_ingest(kb: KnowledgeBase, minilm: MiniLMEmbedder) -> None:
    await seed(kb)
    scan = BitScan()
    v = minilm.embed(["can I pay with bitcoin"])[0]
    before = kb.db.run_sync(lambda c: vectors.knn(c, 1, v, 1, scan=scan))
    await add_documents(kb, 1, "more", [doc(50, "We accept payment in bitcoin and ether.")])
    after = kb.db.run_sync(lambda c: vectors.knn(c, 1, v, 1, scan=scan))
    assert before != after and after[0][1] > before[0][1]
    text = kb.db.run_sync(
        lambda c: c.execute("SELECT text FROM kb_chunks WHERE id = ?", (after[0][0],)).fetchone()
    )
    assert "bitcoin" in text[0]


def test_sign_bits_match_sqlite_vec(db: Database) -> None:
    v = np.random.default_rng(3).standard_normal(384).astype(np.float32)
    q = vectors.quantize(v.reshape(1, -1))[0]
    theirs = db.run_sync(
        lambda c: c.execute("SELECT vec_quantize_binary(vec_int8(?))", (q.tobytes(),)).fetchone()
    )
    assert vectors.sign_bits(q) == theirs[0]
    assert len(vectors.sign_bits(np.ones(60, dtype=np.float32))) == 8  # padded to whole bytes


async def test_readers_see_commits_and_refuse_writes(db: Database) -> None:
    readers = Readers(Path(db.path))
    try:
        count = "SELECT count(*) FROM sites"
        assert await readers.run(lambda c: c.execute(count).fetchone()) == (2,)
        db.run_sync(
            lambda c: c.execute(
                "INSERT INTO sites (id, public_key, name, allowed_origins, identity_secret,"
                " created_at) VALUES (3, 'pk_3', 'three', '[]', 'sk', '2026-01-01')"
            )
        )
        assert await readers.run(lambda c: c.execute(count).fetchone()) == (3,)
        with pytest.raises(apsw.ReadOnlyError):
            await readers.run(lambda c: c.execute("DELETE FROM sites"))
    finally:
        readers.close()
    assert db.run_sync(lambda c: c.execute("SELECT count(*) FROM sites").fetchone()) == (3,)


class Counting:
    """MiniLM that counts the texts it embeds."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.texts = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.texts += len(texts)
        return self.inner.embed(texts)


async def test_query_embeddings_are_cached(db: Database, minilm: MiniLMEmbedder) -> None:
    counting = Counting(minilm)
    kb = KnowledgeBase(db, counting)
    try:
        await seed(kb)
        before = counting.texts
        first = await kb.search(1, "when will my parcel arrive", k=3)
        again = await kb.search(1, "when will my parcel arrive", k=3)
        assert first == again and counting.texts == before + 1
        kb.forget_queries()
        assert await kb.search(1, "when will my parcel arrive", k=3) == first
        assert counting.texts == before + 2
    finally:
        kb.close()


async def test_in_memory_database_searches_on_its_thread(minilm: MiniLMEmbedder) -> None:
    db = Database(":memory:")
    db.run_sync(lambda c: migrate(c, WITH_KB))
    db.run_sync(
        lambda c: c.execute(
            "INSERT INTO sites (id, public_key, name, allowed_origins, identity_secret,"
            " created_at) VALUES (1, 'pk_1', 'one', '[]', 'sk', '2026-01-01')"
        )
    )
    kb = KnowledgeBase(db, minilm)
    try:
        await add_documents(kb, 1, "facts", [doc(0, FACTS[0]), doc(1, FACTS[1])])
        top = await kb.search(1, "money back on my card", k=1)
        assert top[0].title == "Fact 0" and top[0].bm25_rank == 1 and top[0].vector_rank == 1
    finally:
        kb.close()
        db.close()


def old_schema(db: Database, model: str, vectors: npt.NDArray[np.int8]) -> None:
    """A database as release 0001 left it: vectors of ``model`` in ``kb_vec``."""

    def build(conn: apsw.Connection) -> None:
        migrate(conn, CORE)
        first = next(m for m in pending(conn, KB) if m.version == 1)
        conn.execute(first.sql)
        conn.execute(
            "INSERT INTO schema_migrations (feature, version, name) VALUES ('kb', 1, ?)",
            (first.name,),
        )
        dim = vectors.shape[1]
        if dim != 384:  # what ensure_model did for a model of another dimension
            conn.execute("DROP TABLE kb_vec")
            conn.execute(
                "CREATE VIRTUAL TABLE kb_vec USING vec0(chunk_id INTEGER PRIMARY KEY, site_id"
                f" INTEGER PARTITION KEY, embedding int8[{dim}] distance_metric=cosine)"
            )
        conn.execute(
            "INSERT INTO sites (id, public_key, name, allowed_origins, identity_secret,"
            " created_at) VALUES (1, 'pk_1', 'one', '[]', 'sk', '2026-01-01')"
        )
        conn.execute("INSERT INTO kb_index (id, model, dim) VALUES (1, ?, ?)", (model, dim))
        conn.execute(
            "INSERT INTO kb_documents (id, site_id, source, origin, title, content_hash,"
            " ingested_ms) VALUES (1, 1, 'facts', 'facts', 'Facts', '', 0)"
        )
        for i, vec in enumerate(vectors, start=1):
            conn.execute(
                "INSERT INTO kb_chunks (id, site_id, doc_id, ord, section, text, embedded_with)"
                " VALUES (?, 1, 1, ?, '', ?, ?)",
                (i, i, FACTS[i - 1], model),
            )
            conn.execute(
                "INSERT INTO kb_fts (rowid, title, section, text, site)"
                " VALUES (?, 'Facts', '', ?, 's1')",
                (i, FACTS[i - 1]),
            )
            conn.execute(
                "INSERT INTO kb_vec (chunk_id, site_id, embedding) VALUES (?, 1, vec_int8(?))",
                (i, vec.tobytes()),
            )

    db.run_sync(build)


def vector_rows(db: Database) -> list[int]:
    return db.run_sync(
        lambda c: [
            c.execute(q).fetchone()[0]
            for q in ("SELECT count(*) FROM kb_vectors", "SELECT sum(epoch) FROM kb_vector_epochs")
        ]
    )


async def test_migration_moves_old_vectors(tmp_path: Path, minilm: MiniLMEmbedder) -> None:
    db = Database(tmp_path / "old.db")
    old_schema(db, minilm.name, vectors.quantize(minilm.embed(FACTS[:3])))
    applied = db.run_sync(lambda c: migrate(c, WITH_KB))
    assert [(m.feature, m.version) for m in applied] == [("kb", 2)]
    kb = KnowledgeBase(db, minilm)
    try:
        assert vector_rows(db) == [3, 1]
        top = await kb.search(1, "how fast is delivery", k=1, mode="vector")
        assert top[0].text == FACTS[1] and top[0].similarity is not None
        assert await embed_pending(kb) == 0  # nothing to re-embed
        db.run_sync(lambda c: c.execute("DELETE FROM kb_documents WHERE id = 1"))
        assert vector_rows(db) == [0, 4]  # the trigger deletes the vectors and moves the epoch
    finally:
        kb.close()
        db.close()


async def test_migration_keeps_another_models_vectors(
    tmp_path: Path, minilm: MiniLMEmbedder
) -> None:
    db = Database(tmp_path / "old.db")
    old_schema(db, "openai:small", np.ones((3, 64), dtype=np.int8))
    db.run_sync(lambda c: migrate(c, WITH_KB))
    kb = KnowledgeBase(db, minilm)
    try:
        assert vector_rows(db) == [3, 1]
        assert db.run_sync(index.indexed_model) == ("openai:small", 64)
        with pytest.raises(ModelMismatchError):
            await kb.search(1, "delivery working days", k=1)
        lexical = await kb.search(1, "delivery working days", k=1, mode="bm25")
        assert lexical[0].text == FACTS[1] and lexical[0].similarity is None
        assert await embed_pending(kb) == 3
        assert vector_rows(db)[0] == 3
        top = await kb.search(1, "how fast is delivery", k=1, mode="vector")
        assert top[0].text == FACTS[1]
    finally:
        kb.close()
        db.close()


async def test_rarest_words_fit_the_postings_budget(kb: KnowledgeBase) -> None:
    await seed(kb)
    words = ["delivery", "bitcoin", "gift"]  # in 4 chunks (stemmed), none, 1

    def rarest(postings: int) -> list[str]:
        return kb.db.run_sync(lambda c: textindex.rarest_words(c, words, postings))

    assert rarest(100) == ["bitcoin", "gift", "delivery"]
    assert rarest(1) == ["bitcoin", "gift"]
    assert rarest(0) == ["bitcoin"]
    assert kb.db.run_sync(lambda c: textindex.rarest_words(c, ["Deliveries"], 0)) == ["Deliveries"]


async def test_hybrid_bm25_leaves_common_words_to_vectors(
    db: Database, minilm: MiniLMEmbedder
) -> None:
    kb = KnowledgeBase(db, minilm, Fusion(bm25_postings=1))
    try:
        await seed(kb)
        query = "gift delivery"
        hybrid = await kb.search(1, query, k=len(FACTS))
        lexical = [p for p in hybrid if p.bm25_rank is not None]
        assert [p.text for p in lexical] == [FACTS[7]]  # only the rare word was searched
        exact = await kb.search(1, query, k=len(FACTS), mode="bm25")  # bm25 mode: every word
        assert {p.text for p in exact} == {FACTS[i] for i in (7, 1, 2, 8, 21)}  # "deliveries" too
    finally:
        kb.close()


async def test_a_dropped_knowledge_base_closes_its_readers(
    db: Database, minilm: MiniLMEmbedder
) -> None:
    kb = KnowledgeBase(db, minilm)
    await seed(kb)
    await kb.search(1, "gift cards", k=1)
    readers = kb._readers
    assert readers is not None and readers._opened
    del kb
    gc.collect()
    assert readers._opened == []
