"""URLs, sitemaps and crawls against a local site: robots.txt, same-site only, page limit, and
the guard: loopback refused unless allowed, no redirect or sitemap entry off the origin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bpract.kb import KnowledgeBase, SourceError, ingest
from bpract.net import NetSettings

from .conftest import HttpSite


@pytest.fixture
def internal() -> Iterator[HttpSite]:
    """A loopback service the help centre must not lead ingestion to."""
    site = HttpSite()
    site.thread.start()
    site.html("/secret", page("Internal admin", "The database password is hunter2."))
    yield site
    site.server.shutdown()
    site.server.server_close()


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
        report = await ingest(
            kb, 1, http_site.url + "/", crawl=True, max_pages=10, net=http_site.net
        )
        assert report.failed == [] and report.refused == []
        assert report.skipped == [f"{other.url}/other"]  # reported, not fetched
        assert await titles(kb, 1) == {"Help centre", "Returns", "Shipping", "Deep", "FAQ"}
        assert "/private/notes" not in http_site.requests
        assert other.requests == []
        passage = (await kb.search(1, "refund delay", k=1))[0]
        assert passage.url == http_site.url + "/returns"

        await ingest(kb, 2, http_site.url + "/", crawl=True, max_pages=2, net=http_site.net)
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
    report = await ingest(kb, 1, base + "/sitemap.xml", net=http_site.net)
    assert report.added == 2
    dates = kb.db.run_sync(lambda c: dict(c.execute("SELECT title, updated_at FROM kb_documents")))
    assert dates["Returns"] == "2023-04-05"

    http_site.routes["/pages.xml"] = (
        200,
        "application/xml",
        sitemap.replace(f"{base}/shipping", f"{base}/gone").encode(),
    )
    report = await ingest(kb, 1, base + "/sitemap.xml", net=http_site.net)
    assert (report.unchanged, report.deleted) == (1, 1)
    assert await titles(kb, 1) == {"Returns"}


async def test_server_error_keeps_the_stored_copy(kb: KnowledgeBase, http_site: HttpSite) -> None:
    build(http_site, "http://127.0.0.1:9")
    sitemap = f"<urlset><url><loc>{http_site.url}/returns</loc></url></urlset>"
    http_site.routes["/sitemap.xml"] = (200, "application/xml", sitemap.encode())
    await ingest(kb, 1, http_site.url + "/sitemap.xml", net=http_site.net)
    http_site.html("/returns", "down", status=503)
    report = await ingest(kb, 1, http_site.url + "/sitemap.xml", net=http_site.net)
    assert report.deleted == 0 and report.failed == [http_site.url + "/returns"]
    assert await titles(kb, 1) == {"Returns"}


async def test_single_url_and_refusals(kb: KnowledgeBase, http_site: HttpSite) -> None:
    build(http_site, "http://127.0.0.1:9")
    report = await ingest(kb, 1, http_site.url + "/shipping", net=http_site.net)
    assert report.added == 1
    with pytest.raises(SourceError, match="could not be fetched"):
        await ingest(kb, 1, http_site.url + "/nothing-here", net=http_site.net)
    with pytest.raises(SourceError, match="HTTP 404"):
        await ingest(kb, 1, http_site.url + "/missing-sitemap.xml", net=http_site.net)


async def test_loopback_is_refused_unless_allowed(kb: KnowledgeBase, http_site: HttpSite) -> None:
    build(http_site, "http://127.0.0.1:9")
    with pytest.raises(SourceError, match=r"127\.0\.0\.1 is a loopback address"):
        await ingest(kb, 1, http_site.url + "/shipping")
    assert http_site.requests == [] and await titles(kb, 1) == set()


async def test_a_redirect_to_an_internal_service_is_refused(
    kb: KnowledgeBase, http_site: HttpSite, internal: HttpSite
) -> None:
    build(http_site, "http://127.0.0.1:9")
    http_site.redirects["/help"] = internal.url + "/secret"
    http_site.html("/", page("Help centre", "Welcome.", ("/help", "/returns")))
    # Even with the internal service reachable, the redirect leaves the start URL's origin.
    reachable = NetSettings(allow=f"{http_site.url},{internal.url}")
    with pytest.raises(SourceError, match=r"redirects to .* another origin"):
        await ingest(kb, 1, http_site.url + "/help", net=reachable)
    with pytest.raises(SourceError, match="another origin"):
        await ingest(kb, 1, http_site.url + "/help", allow_private=True)

    report = await ingest(kb, 1, http_site.url + "/", crawl=True, net=http_site.net)
    assert report.refused == [
        f"{http_site.url}/help redirects to {internal.url}/secret, another origin; not followed"
    ]
    assert internal.requests == []
    assert await titles(kb, 1) == {"Help centre", "Returns"}
    assert await kb.search(1, "database password", k=3, mode="bm25") == []


async def test_sitemap_entries_on_other_origins_are_skipped(
    kb: KnowledgeBase, http_site: HttpSite, internal: HttpSite
) -> None:
    build(http_site, "http://127.0.0.1:9")
    base = http_site.url
    elsewhere = f"<urlset><url><loc>{internal.url}/secret</loc></url></urlset>"
    internal.routes["/more.xml"] = (200, "application/xml", elsewhere.encode())
    index = (
        f"<sitemapindex><sitemap><loc>{internal.url}/more.xml</loc></sitemap>"
        f"<sitemap><loc>{base}/pages.xml</loc></sitemap></sitemapindex>"
    )
    pages = (
        f"<urlset><url><loc>{base}/returns</loc></url>"
        f"<url><loc>{internal.url}/secret</loc></url>"
        f"<url><loc>http://169.254.169.254/latest/meta-data/</loc></url></urlset>"
    )
    http_site.routes["/sitemap.xml"] = (200, "application/xml", index.encode())
    http_site.routes["/pages.xml"] = (200, "application/xml", pages.encode())
    # The internal service is allowed: the origin rule alone keeps its pages out.
    both = NetSettings(allow=f"{http_site.url},{internal.url}")
    report = await ingest(kb, 1, base + "/sitemap.xml", net=both)
    assert report.skipped == [
        f"{internal.url}/more.xml",
        f"{internal.url}/secret",
        "http://169.254.169.254/latest/meta-data/",
    ]
    assert report.added == 1 and internal.requests == []
    assert await titles(kb, 1) == {"Returns"}


async def test_a_refused_page_keeps_its_stored_copy(
    kb: KnowledgeBase, http_site: HttpSite, internal: HttpSite
) -> None:
    build(http_site, "http://127.0.0.1:9")
    sitemap = f"<urlset><url><loc>{http_site.url}/returns</loc></url></urlset>"
    http_site.routes["/sitemap.xml"] = (200, "application/xml", sitemap.encode())
    await ingest(kb, 1, http_site.url + "/sitemap.xml", net=http_site.net)
    http_site.redirects["/returns"] = internal.url + "/secret"
    report = await ingest(kb, 1, http_site.url + "/sitemap.xml", net=http_site.net)
    assert report.deleted == 0 and len(report.refused) == 1
    assert await titles(kb, 1) == {"Returns"} and internal.requests == []
