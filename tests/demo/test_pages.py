"""Every demo page: served, tagged exactly as a customer would, nothing loaded from outside."""

from __future__ import annotations

import re

import httpx
import msgspec
import pytest
import yaml

from bpract_client.rules import Ruleset

from .conftest import BPRACT_URL, REPO, SITE_DIR, SITE_KEY, DemoServer

QUEUE = (
    "<script>window.bpract=window.bpract||function()"
    "{(bpract.q=bpract.q||[]).push(arguments)}</script>"
)
TAG = f'<script src="{BPRACT_URL}/widget.js" data-site="{SITE_KEY}" async></script>'
URL_ATTR = re.compile(r"""(?:src|href|action|srcset)\s*=\s*["']([^"']+)""", re.I)
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)|@import\s+["']([^"']+)""", re.I)


def page_paths() -> list[str]:
    pages = [
        "/" + p.relative_to(SITE_DIR).with_suffix("").as_posix()
        for p in SITE_DIR.rglob("*.html")
        if not p.name.startswith("_") and p.name != "404.html"
    ]
    pages += ["/help/" + p.stem for p in (SITE_DIR / "help").glob("*.md")]
    return sorted(pages)


def is_local(url: str) -> bool:
    if url.startswith(("/", "#", "mailto:")) and not url.startswith("//"):
        return True
    return url.startswith(("http://127.0.0.1:", "http://127.0.0.1/"))


def test_the_site_has_the_pages_the_demo_needs() -> None:
    paths = page_paths()
    for needed in [
        "/index",
        "/pricing",
        "/products",
        "/cart",
        "/account",
        "/account/cancel",
        "/help",
    ]:
        assert needed in paths
    assert len([p for p in paths if p.startswith("/products/")]) == 6
    assert 8 <= len(list((SITE_DIR / "help").glob("*.md"))) <= 12


@pytest.mark.parametrize("path", page_paths())
def test_page_is_served_with_the_tag_and_no_external_urls(
    shared_demo: DemoServer, path: str
) -> None:
    response = httpx.get(shared_demo.url + path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    head = html.split("</head>", 1)[0]
    assert QUEUE in head and TAG in head
    assert head.index(QUEUE) < head.index(TAG)
    assert "{{" not in html
    external = [u for u in URL_ATTR.findall(html) if not is_local(u)]
    assert external == [], external


@pytest.mark.parametrize("asset", ["/assets/site.css", "/assets/site.js"])
def test_assets_load_nothing_from_outside(shared_demo: DemoServer, asset: str) -> None:
    response = httpx.get(shared_demo.url + asset)
    assert response.status_code == 200
    urls = [a or b for a, b in CSS_URL.findall(response.text)]
    assert [u for u in urls if not is_local(u)] == []
    assert "http" not in response.text.replace("http://127.0.0.1", "")


def test_clean_and_html_urls_serve_the_same_page(shared_demo: DemoServer) -> None:
    clean = httpx.get(shared_demo.url + "/pricing").text
    assert httpx.get(shared_demo.url + "/pricing.html").text == clean
    assert (
        httpx.get(shared_demo.url + "/help/returns.html").text
        == httpx.get(shared_demo.url + "/help/returns").text
    )


def test_help_markdown_is_served_raw_and_rendered(shared_demo: DemoServer) -> None:
    raw = httpx.get(shared_demo.url + "/help/sizing-guide.md")
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("text/markdown")
    assert raw.text == (SITE_DIR / "help" / "sizing-guide.md").read_text(encoding="utf-8")
    page = httpx.get(shared_demo.url + "/help/sizing-guide").text
    assert "<title>Sizing guide — Northwind Help</title>" in page
    assert "<table>" in page and "<h1>Sizing guide</h1>" in page


def test_help_index_links_every_article(shared_demo: DemoServer) -> None:
    index = httpx.get(shared_demo.url + "/help").text
    for article in (SITE_DIR / "help").glob("*.md"):
        assert f'href="/help/{article.stem}"' in index


@pytest.mark.parametrize(
    "path", ["/nope", "/help/_article", "/help/_article.html", "/%2e%2e/settings.py", "/.gitignore"]
)
def test_unknown_private_and_outside_paths_are_404(shared_demo: DemoServer, path: str) -> None:
    response = httpx.get(shared_demo.url + path)
    assert response.status_code == 404
    assert TAG in response.text


def test_product_pages_carry_the_prices_the_orders_api_charges(shared_demo: DemoServer) -> None:
    with shared_demo.client() as c:
        items = [i for o in c.get("/api/accounts/u_1001/orders").json() for i in o["items"]]
    for item in items:
        page = next(
            p.read_text()
            for p in (SITE_DIR / "products").glob("*.html")
            if f'data-item-id="{item["item_id"]}"' in p.read_text()
        )
        assert f'data-price="{item["price_cents"] / 100:.2f}"' in page


def test_rules_decode_into_a_ruleset_with_the_three_rules(shared_demo: DemoServer) -> None:
    raw = yaml.safe_load((REPO / "demo_site" / "rules.yaml").read_text(encoding="utf-8"))
    ruleset = msgspec.convert(raw, Ruleset)
    by_id = {r.id: r for r in ruleset.rules}
    assert set(by_id) == {"pricing-annual-offer", "cancel-retention", "cart-sizing-help"}
    pricing, cancel, churn = (
        by_id[i] for i in ("pricing-annual-offer", "cancel-retention", "cart-sizing-help")
    )
    assert pricing.when.attentive_seconds == 60 and pricing.when.traits == {"plan": None}
    assert pricing.holdout == 10
    assert cancel.when.visits is not None and (
        cancel.when.visits.count,
        cancel.when.visits.days,
    ) == (2, 7)
    assert churn.when.cart_churn is not None and churn.when.cart_churn.changes == 3
    assert churn.when.cart_churn.minutes == 10
    for rule in ruleset.rules:
        assert rule.goal and rule.message.cta is not None and rule.cooldown_seconds > 0
        assert rule.message.cta.url is not None
        target = rule.message.cta.url.split("#")[0]
        assert httpx.get(shared_demo.url + target).status_code == 200, target
