"""URLs, sitemaps and crawls against a local site: robots.txt, same-site only, page limit."""

from __future__ import annotations

import pytest

from bpract.kb import KnowledgeBase, SourceError, ingest

from .conftest import HttpSite


def page(title: str, body: str, links: tuple[str, ...] = ()) -> str:
    anchors = "".join(f'<a href="{href}">link</a>' for href in links)
    head = f"<html><head><title>{title}</title></head>"
    return f"{head}<body><h1>{title}</h1><p>{body}</p>{anchors}</body></html>"


def build(site: HttpSite, elsewhere: str) -> None:
    site.routes["/robots.txt"] = (200, "text/plain", b"User-agent: *\nDisallow: /private\n")
    site.html(
        "/",
        page(
            "Help centre",
            "Welcome to the help centre.",
            ("/returns", "/shipping#costs", "/private/notes", f"{elsewhere}/other", "/faq.md"),
        ),
    )
    site.html("/returns", page("Returns", "Refunds arrive within ten days.", ("/",)))
    site.html("/shipping", page("Shipping", "Parcels arrive in three days.", ("/deep",)))
    site.html("/deep", page("Deep", "A page far away from the start."))
    site.html("/private/notes", page("Private", "Internal notes must never be indexed."))
    site.routes["/faq.md"] = (200, "text/markdown", b"# FAQ\n\nAsk us anything by email.\n")


async def titles(kb: KnowledgeBase, site_id: int) -> set[str]:
    rows = kb.db.run_sync(
        lambda c: c.execute(
            "SELECT title FROM kb_documents WHERE site_id = ?", (site_id,)
        ).fetchall()
    )
    return {r[0] for r in rows}


async def test_crawl_respects_robots_origin_and_limit(
    kb: KnowledgeBase, http_site: HttpSite
) -> None:
    other = HttpSite()
    other.thread.start()
    try:
        other.html("/other", page("Elsewhere", "Another site."))
        build(http_site, other.url)
        report = await ingest(kb, 1, http_site.url + "/", crawl=True, max_pages=10)
        assert report.failed == []
        assert await titles(kb, 1) == {"Help centre", "Returns", "Shipping", "Deep", "FAQ"}
        assert "/private/notes" not in http_site.requests
        assert other.requests == []
        passage = (await kb.search(1, "refund delay", k=1))[0]
        assert passage.url == http_site.url + "/returns"

        await ingest(kb, 2, http_site.url + "/", crawl=True, max_pages=2)
        assert len(await titles(kb, 2)) == 2
    finally:
        other.server.shutdown()
        other.server.server_close()


async def test_sitemap_and_removed_pages(kb: KnowledgeBase, http_site: HttpSite) -> None:
    build(http_site, "http://127.0.0.1:9")
    base = http_site.url
    sitemap = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base}/returns</loc><lastmod>2023-04-05</lastmod></url>"
        f"<url><loc>{base}/shipping</loc></url>"
        f"<url><loc>{base}/private/notes</loc></url></urlset>"
    )
    index = f"<sitemapindex><sitemap><loc>{base}/pages.xml</loc></sitemap></sitemapindex>"
    http_site.routes["/pages.xml"] = (200, "application/xml", sitemap.encode())
    http_site.routes["/sitemap.xml"] = (200, "application/xml", index.encode())
    report = await ingest(kb, 1, base + "/sitemap.xml")
    assert report.added == 2
    dates = kb.db.run_sync(lambda c: dict(c.execute("SELECT title, updated_at FROM kb_documents")))
    assert dates["Returns"] == "2023-04-05"

    http_site.routes["/pages.xml"] = (
        200,
        "application/xml",
        sitemap.replace(f"{base}/shipping", f"{base}/gone").encode(),
    )
    report = await ingest(kb, 1, base + "/sitemap.xml")
    assert (report.unchanged, report.deleted) == (1, 1)
    assert await titles(kb, 1) == {"Returns"}


async def test_server_error_keeps_the_stored_copy(kb: KnowledgeBase, http_site: HttpSite) -> None:
    build(http_site, "http://127.0.0.1:9")
    sitemap = f"<urlset><url><loc>{http_site.url}/returns</loc></url></urlset>"
    http_site.routes["/sitemap.xml"] = (200, "application/xml", sitemap.encode())
    await ingest(kb, 1, http_site.url + "/sitemap.xml")
    http_site.html("/returns", "down", status=503)
    report = await ingest(kb, 1, http_site.url + "/sitemap.xml")
    assert report.deleted == 0 and report.failed == [http_site.url + "/returns"]
    assert await titles(kb, 1) == {"Returns"}


async def test_single_url_and_refusals(kb: KnowledgeBase, http_site: HttpSite) -> None:
    build(http_site, "http://127.0.0.1:9")
    report = await ingest(kb, 1, http_site.url + "/shipping")
    assert report.added == 1
    with pytest.raises(SourceError, match="could not be fetched"):
        await ingest(kb, 1, http_site.url + "/nothing-here")
    with pytest.raises(SourceError, match="HTTP 404"):
        await ingest(kb, 1, http_site.url + "/missing-sitemap.xml")
