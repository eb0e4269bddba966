"""Security headers on everything the server serves: nosniff, referrer policy, one charset, CSP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from bpract.app import create_app
from bpract.headers import DEFAULT_PAGE, PagePolicy, one_charset, page_policy, secure_headers
from bpract.settings import ServerSettings, Settings

# What the server answers, by kind: JSON, an error, assets (found, missing), HTML pages.
PATHS = [
    ("GET", "/health"),
    ("GET", "/api/sites"),
    ("GET", "/no/such/route"),
    ("POST", "/health"),
    ("GET", "/widget.js"),
    ("HEAD", "/widget.js"),
    ("GET", "/w/b1/worker.mjs"),
    ("GET", "/w/b1/runtime.wasm"),
    ("GET", "/w/b1/missing.js"),
    ("GET", "/schema"),
    ("GET", "/schema/openapi.json"),
    ("GET", "/schema/ui/viewer.js"),
    ("GET", "/schema/ui/swagger-ui.css"),
    ("GET", "/schema/nothing-here"),
]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("headers") / "dist"
    for rel, content in {
        "widget.js": b"(()=>{})();\n",
        "w/b1/worker.mjs": b"export {};\n",
        "w/b1/runtime.wasm": b"\x00asm\x01\x00\x00\x00",
        "schema/viewer.js": b"// viewer\n",
        "schema/swagger-ui-bundle.js": b"// swagger\n",
        "schema/swagger-ui.css": b"body{}\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    return root


def _app(dist: Path) -> Litestar:
    db = dist.parent / "h.db"
    return create_app(Settings.read({}, ServerSettings(db=db, widget_dist=dist)))


@pytest.fixture(scope="module")
def answered(dist: Path) -> dict[tuple[str, str], httpx.Response]:
    """Every response of :data:`PATHS`, from one app."""

    async def collect() -> dict[tuple[str, str], httpx.Response]:
        async with AsyncTestClient(app=_app(dist)) as c:
            return {(m, p): await c.request(m, p) for m, p in PATHS}

    return asyncio.run(collect())


@pytest.fixture
async def client(dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with AsyncTestClient(app=_app(dist)) as c:
        yield c


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_every_response_has_nosniff_a_referrer_policy_and_one_charset(
    answered: dict[tuple[str, str], httpx.Response], method: str, path: str
) -> None:
    response = answered[method, path]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    content_type = response.headers.get_list("content-type")
    assert len(content_type) == 1, content_type
    charsets = content_type[0].lower().count("charset=")
    binary = content_type[0].startswith(("application/wasm", "application/zip"))
    assert charsets == (0 if binary else 1), content_type[0]


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_html_pages_have_a_csp_and_cannot_be_framed(
    answered: dict[tuple[str, str], httpx.Response], method: str, path: str
) -> None:
    response = answered[method, path]
    csp = response.headers.get("content-security-policy")
    if not response.headers["content-type"].startswith("text/html"):
        assert csp is None  # the widget's files stay usable inside any host page
        return
    assert csp is not None
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"  # no inline script, nothing from a CDN
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"


async def test_the_schema_viewer_loads_nothing_from_elsewhere(client: httpx.AsyncClient) -> None:
    page = (await client.get("/schema")).text
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    assert '<script src="/schema/ui/swagger-ui-bundle.js">' in page
    assert "<script>" not in page  # no inline script for the CSP to allow
    viewer = await client.get("/schema/ui/viewer.js")
    assert viewer.status_code == 200 and viewer.content == b"// viewer\n"
    assert "access-control-allow-origin" not in viewer.headers  # ours, not for host pages
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "BPract Agents"


async def test_without_a_build_the_viewer_page_says_so(tmp_path: Path) -> None:
    settings = Settings.read(
        {}, ServerSettings(db=tmp_path / "x.db", widget_dist=tmp_path / "nowhere")
    )
    async with AsyncTestClient(app=create_app(settings)) as c:
        page = (await c.get("/schema")).text
    assert "not built" in page and "/schema/openapi.json" in page and "<script" not in page


async def test_the_widget_stays_embeddable_cross_origin(client: httpx.AsyncClient) -> None:
    for path in ("/widget.js", "/w/b1/worker.mjs", "/w/b1/runtime.wasm"):
        response = await client.get(path, headers={"origin": "https://shop.example"})
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["cross-origin-resource-policy"] == "cross-origin"
        assert "x-frame-options" not in response.headers


@get("/inbox", opt=page_policy(PagePolicy(connect_src=("'self'", "wss:"))), media_type="text/html")
async def _inbox() -> str:
    return "<p>inbox</p>"


@get("/plain", media_type="text/html")
async def _plain() -> str:
    return "<p>plain</p>"


@get("/framed", opt=page_policy(PagePolicy(frame_ancestors=("'self'",))), media_type="text/html")
async def _framed() -> str:
    return "<p>framed</p>"


async def test_a_feature_declares_its_page_policy_frame_ancestors_none_by_default() -> None:
    app = Litestar([_inbox, _plain, _framed], before_send=[secure_headers])
    async with AsyncTestClient(app=app) as c:
        inbox = await c.get("/inbox")
        plain = await c.get("/plain")
        framed = await c.get("/framed")
    assert "connect-src 'self' wss:" in inbox.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in inbox.headers["content-security-policy"]
    assert plain.headers["content-security-policy"] == DEFAULT_PAGE.header()
    assert "frame-ancestors 'self'" in framed.headers["content-security-policy"]
    assert "x-frame-options" not in framed.headers


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("text/javascript; charset=utf-8; charset=utf-8", "text/javascript; charset=utf-8"),
        ("text/plain", "text/plain; charset=utf-8"),
        ("text/html; Charset=UTF-8", "text/html; charset=utf-8"),
        ("application/json", "application/json; charset=utf-8"),
        ("application/vnd.oai.openapi+json", "application/vnd.oai.openapi+json; charset=utf-8"),
        ("application/wasm", "application/wasm"),
        ("application/zip; charset=utf-8", "application/zip"),
        ("multipart/form-data; boundary=x", "multipart/form-data; boundary=x"),
    ],
)
def test_one_charset(given: str, expected: str) -> None:
    assert one_charset(given) == expected
