"""Retrieval: hybrid ranks, confidence, and tenants that never see each other's chunks."""

from __future__ import annotations

from bpract.kb import ANSWER_THRESHOLD, Document, KnowledgeBase, Section, add_documents


def doc(source: str, title: str, text: str) -> Document:
    return Document(
        source=source,
        title=title,
        url=f"https://help.test/{source}",
        updated_at="2025-01-01",
        sections=(Section(title, text),),
    )


async def seed(kb: KnowledgeBase) -> None:
    await add_documents(
        kb,
        1,
        "seed",
        [
            doc("refunds", "Refunds", "Refunds reach your card within 5 to 10 business days."),
            doc("shipping", "Shipping", "Standard delivery takes three working days."),
            doc(
                "password", "Password reset", "Use the 'Forgot password' link on the sign-in page."
            ),
        ],
    )
    await add_documents(
        kb,
        2,
        "seed",
        [
            doc("secret", "Internal pricing", "Partner refunds are approved by the finance team."),
        ],
    )


async def test_hybrid_passage_fields(kb: KnowledgeBase) -> None:
    await seed(kb)
    passages = await kb.search(1, "how long until I get my money back", k=2)
    top = passages[0]
    assert top.title == "Refunds" and top.url == "https://help.test/refunds"
    assert top.section == "Refunds" and top.updated_at == "2025-01-01"
    assert top.vector_rank == 1 and top.similarity is not None and top.confidence is not None
    assert top.score >= passages[1].score


async def test_modes_differ_where_they_should(kb: KnowledgeBase) -> None:
    await seed(kb)
    assert await kb.search(1, "money back", mode="bm25") == []  # no shared word
    vector = await kb.search(1, "money back", k=1, mode="vector")
    assert vector[0].title == "Refunds" and vector[0].bm25_rank is None
    lexical = await kb.search(1, "forgot password", k=1, mode="bm25")
    assert lexical[0].title == "Password reset" and lexical[0].vector_rank is None
    assert lexical[0].similarity is not None  # filled in from the stored vector


async def test_confidence_separates_answerable_questions(kb: KnowledgeBase) -> None:
    await seed(kb)
    good = (await kb.search(1, "I forgot my password, how do I reset it?", k=1))[0]
    bad = (await kb.search(1, "Do you sell gift cards for birthdays?", k=1))[0]
    assert good.confidence is not None and bad.confidence is not None
    assert good.confidence >= ANSWER_THRESHOLD > bad.confidence


async def test_sites_never_see_each_other(kb: KnowledgeBase) -> None:
    await seed(kb)
    for mode in ("hybrid", "bm25", "vector"):
        one = await kb.search(1, "partner refunds finance team", k=10, mode=mode)  # type: ignore[arg-type]
        assert one and all(p.title != "Internal pricing" for p in one), mode
        two = await kb.search(2, "refunds card business days shipping", k=10, mode=mode)  # type: ignore[arg-type]
        assert [p.title for p in two] == ["Internal pricing"], mode
    assert await kb.search(3, "refunds", k=5) == []


async def test_fts_syntax_in_queries_is_inert(kb: KnowledgeBase) -> None:
    await seed(kb)
    for query in ['"unbalanced', "NEAR(refunds", "refunds*) OR -", "", "???"]:
        await kb.search(1, query, k=3)
