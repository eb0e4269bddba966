"""Audit: stale documents, and unanswered questions grouped by meaning."""

from __future__ import annotations

import datetime as dt

from bpract.kb import (
    Document,
    KnowledgeBase,
    Section,
    add_documents,
    record_unanswered,
    stale_documents,
    unanswered_groups,
)


async def test_stale_documents(kb: KnowledgeBase) -> None:
    docs = [
        Document("old", "Old policy", None, "2020-01-01", (Section("Old policy", "x"),)),
        Document("new", "New policy", None, "2026-06-01", (Section("New policy", "y"),)),
        Document("undated", "Undated", None, None, (Section("Undated", "z"),)),
    ]
    await add_documents(kb, 1, "seed", docs)
    stale = await stale_documents(kb.db, 1, 90, today=dt.date(2026, 7, 1))
    assert [s.title for s in stale] == ["Undated", "Old policy"]
    assert await stale_documents(kb.db, 2, 90, today=dt.date(2026, 7, 1)) == []


async def test_unanswered_questions_are_grouped(kb: KnowledgeBase) -> None:
    questions = [
        ("Do you ship to Canada?", 0.1),
        ("Can I get delivery to Canada?", 0.2),
        ("Is shipping to Canada available?", None),
        ("Do you offer gift cards?", 0.3),
        ("Can I buy a gift card?", 0.1),
        ("How do I change my email address?", 0.2),
    ]
    for i, (q, score) in enumerate(questions):
        await record_unanswered(kb.db, 1, q, score, asked_ms=1_000 + i)
    await record_unanswered(kb.db, 2, "Other tenant's question about Canada shipping", 0.0)
    groups = await unanswered_groups(kb.db, kb.embedder, 1)
    assert [g.count for g in groups] == [3, 2, 1]
    assert "Canada" in groups[0].question and groups[0].best_score == 0.2
    assert set(groups[0].examples) == {q for q, _ in questions[:3]}
    assert "gift card" in groups[1].question.lower() and groups[1].last_asked_ms == 1_004
    assert await unanswered_groups(kb.db, kb.embedder, 1, since_ms=1_005) == [
        groups[2].__class__(questions[5][0], 1, (questions[5][0],), 1_005, 0.2)
    ]
