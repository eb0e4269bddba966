"""Widget files: MIME, precompressed siblings, caching, CORS, ETag/304, traversal, HEAD, ranges."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import brotli
import httpx
import pytest
from litestar.testing import AsyncTestClient

from bpract.app import create_app
from bpract.settings import ServerSettings, Settings
from support.server import ServerProcess

BUILD = "b1234abcd"
FILES: dict[str, tuple[bytes, bool]] = {  # path under dist: (content, precompressed?)
    "widget.js": (b"(()=>{/* loader */})();\n" * 20, True),
    f"w/{BUILD}/worker.mjs": (b"export const worker = 1;\n" * 20, True),
    f"w/{BUILD}/pyodide/pyodide.asm.wasm": (b"\x00asm\x01\x00\x00\x00" + bytes(4000), True),
    f"w/{BUILD}/pyodide/pyodide-lock.json": (b'{"packages": {}}' * 10, True),
    f"w/{BUILD}/pyodide/python_stdlib.zip": (b"PK\x03\x04" + bytes(500), False),
    f"w/{BUILD}/bpract_client-0.1.0-py3-none-any.whl": (b"PK\x03\x04wheel" + bytes(300), False),
    f"w/{BUILD}/pyodide/pyodide.mjs": (b"export {loadPyodide};\n" * 30, False),
}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("widget") / "dist"
    for rel, (content, compressed) in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        if compressed:
            path.with_name(path.name + ".br").write_bytes(brotli.compress(content))
            path.with_name(path.name + ".gz").write_bytes(gzip.compress(content))
    (root.parent / "secret.txt").write_text("outside the dist folder")
    return root


@pytest.fixture(scope="module")
def live_env(dist: Path) -> dict[str, str]:
    return {"BPRACT_WIDGET_DIST": str(dist)}


@pytest.fixture(scope="module")
def http(live_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url) as client:
        yield client


@pytest.mark.parametrize(
    ("url", "mime"),
    [
        ("/widget.js", "text/javascript"),
        (f"/w/{BUILD}/worker.mjs", "text/javascript"),
        (f"/w/{BUILD}/pyodide/pyodide.mjs", "text/javascript"),
        (f"/w/{BUILD}/pyodide/pyodide.asm.wasm", "application/wasm"),
        (f"/w/{BUILD}/pyodide/pyodide-lock.json", "application/json"),
        (f"/w/{BUILD}/pyodide/python_stdlib.zip", "application/zip"),
        (f"/w/{BUILD}/bpract_client-0.1.0-py3-none-any.whl", "application/zip"),
    ],
)
def test_mime_cors_and_content(http: httpx.Client, url: str, mime: str) -> None:
    response = http.get(url, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == mime
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in response.headers
    rel = "widget.js" if url == "/widget.js" else url.removeprefix("/")
    assert response.content == FILES[rel][0]


def test_caching_headers(http: httpx.Client) -> None:
    assert http.get("/widget.js").headers["cache-control"] == "public, max-age=300"
    runtime = http.get(f"/w/{BUILD}/worker.mjs").headers["cache-control"]
    assert runtime == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        ("br, gzip", "br"),
        ("gzip, deflate, br;q=0", "gzip"),
        ("gzip", "gzip"),
        ("br", "br"),
        ("identity", None),
        ("", None),
    ],
)
def test_precompressed_siblings_are_picked(
    http: httpx.Client, accept: str, encoding: str | None
) -> None:
    for url, rel in (
        ("/widget.js", "widget.js"),
        (f"/w/{BUILD}/pyodide/pyodide.asm.wasm", f"w/{BUILD}/pyodide/pyodide.asm.wasm"),
    ):
        response = http.get(url, headers={"Accept-Encoding": accept})
        assert response.headers.get("content-encoding") == encoding
        assert response.content == FILES[rel][0]  # httpx decoded what the server encoded
        if encoding == "br":
            assert int(response.headers["content-length"]) < len(FILES[rel][0])


def test_uncompressed_only_files_are_served_raw(http: httpx.Client) -> None:
    response = http.get(
        f"/w/{BUILD}/pyodide/python_stdlib.zip", headers={"Accept-Encoding": "br, gzip"}
    )
    assert "content-encoding" not in response.headers


def test_etag_and_304(http: httpx.Client) -> None:
    first = http.get("/widget.js", headers={"Accept-Encoding": "br"})
    etag = first.headers["etag"]
    again = http.get("/widget.js", headers={"Accept-Encoding": "br", "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = http.get("/widget.js", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/w/../secret.txt",
        b"/w/%2e%2e/secret.txt",
        b"/w/" + BUILD.encode() + b"/..%2f..%2f..%2fsecret.txt",
        b"/w/%2fetc%2fpasswd",
        b"/w/" + BUILD.encode() + b"/worker.mjs.br",
        b"/w/" + BUILD.encode() + b"/missing.js",
        b"/w/",
        b"/w/" + BUILD.encode(),
    ],
)
def test_traversal_and_missing_files_are_404(live_server: ServerProcess, raw_path: bytes) -> None:
    # Sent verbatim: no client-side normalisation of dot segments.
    with httpx.Client() as client:
        request = client.build_request("GET", live_server.url)
        request.url = request.url.copy_with(raw_path=raw_path)
        response = client.send(request)
    assert response.status_code == 404
    assert b"outside" not in response.content


async def test_missing_dist_answers_503_with_advice(tmp_path: Path) -> None:
    settings = Settings.read(
        {}, ServerSettings(db=tmp_path / "x.db", widget_dist=tmp_path / "nowhere")
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get("/widget.js")
        assert response.status_code == 503
        assert "not built" in response.text and "widget/build.py" in response.text
        assert (await client.get("/w/abc/worker.mjs")).status_code == 404


def test_head_answers_the_headers_of_get_without_a_body(http: httpx.Client) -> None:
    for url, rel in (
        ("/widget.js", "widget.js"),
        (f"/w/{BUILD}/worker.mjs", f"w/{BUILD}/worker.mjs"),
    ):
        get = http.get(url, headers={"Accept-Encoding": "identity"})
        head = http.head(url, headers={"Accept-Encoding": "identity"})
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(FILES[rel][0]))
        for name in ("content-type", "etag", "cache-control", "access-control-allow-origin"):
            assert head.headers[name] == get.headers[name]
        assert head.headers["accept-ranges"] == "bytes"
    assert http.head(f"/w/{BUILD}/missing.js").status_code == 404


WASM = f"w/{BUILD}/pyodide/pyodide.asm.wasm"


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [("bytes=0-9", 0, 9), ("bytes=100-", 100, None), ("bytes=-16", -16, None),
     ("bytes=4000-999999", 4000, None), ("BYTES=5-5", 5, 5)],
)  # fmt: skip
def test_a_range_answers_206_with_its_bytes(
    http: httpx.Client, spec: str, start: int, end: int | None
) -> None:
    content = FILES[WASM][0]
    response = http.get("/" + WASM, headers={"Accept-Encoding": "identity", "Range": spec})
    assert response.status_code == 206
    expected = content[start : None if end is None else end + 1]
    assert response.content == expected
    first = start % len(content)
    assert response.headers["content-range"] == (
        f"bytes {first}-{first + len(expected) - 1}/{len(content)}"
    )
    assert response.headers["content-length"] == str(len(expected))
    assert response.headers["access-control-allow-origin"] == "*"
    head = http.head("/" + WASM, headers={"Accept-Encoding": "identity", "Range": spec})
    assert head.status_code == 206 and head.content == b""
    assert head.headers["content-range"] == response.headers["content-range"]


@pytest.mark.parametrize("spec", ["bytes=999999-", "bytes=4008-4010", "bytes=-0"])
def test_a_range_past_the_end_is_416(http: httpx.Client, spec: str) -> None:
    response = http.get("/" + WASM, headers={"Accept-Encoding": "identity", "Range": spec})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(FILES[WASM][0])}"


@pytest.mark.parametrize("spec", ["bytes=0-1,5-9", "items=0-9", "bytes=a-b", "bytes=9-2"])
def test_ranges_we_do_not_serve_get_the_whole_file(http: httpx.Client, spec: str) -> None:
    response = http.get("/" + WASM, headers={"Accept-Encoding": "identity", "Range": spec})
    assert response.status_code == 200 and response.content == FILES[WASM][0]


def test_a_range_counts_bytes_of_the_encoding_sent(http: httpx.Client, dist: Path) -> None:
    br = (dist / (WASM + ".br")).read_bytes()
    response = http.get("/" + WASM, headers={"Accept-Encoding": "br", "Range": "bytes=0-3"})
    assert response.status_code == 206
    assert response.headers["content-encoding"] == "br"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["content-range"] == f"bytes 0-3/{len(br)}"
    raw = http.get(
        "/" + WASM, headers={"Accept-Encoding": "identity", "Range": "bytes=0-3"}
    ).headers["etag"]
    assert response.headers["etag"] != raw  # caches keep the two representations apart


def test_if_range_with_another_etag_sends_the_whole_file(http: httpx.Client) -> None:
    headers = {"Accept-Encoding": "identity", "Range": "bytes=0-3"}
    etag = http.get("/" + WASM, headers=headers).headers["etag"]
    same = http.get("/" + WASM, headers={**headers, "If-Range": etag})
    assert same.status_code == 206
    other = http.get("/" + WASM, headers={**headers, "If-Range": '"stale"'})
    assert other.status_code == 200 and other.content == FILES[WASM][0]


def test_if_none_match_still_wins_over_a_range(http: httpx.Client) -> None:
    etag = http.get("/" + WASM, headers={"Accept-Encoding": "identity"}).headers["etag"]
    again = http.get(
        "/" + WASM,
        headers={"Accept-Encoding": "identity", "Range": "bytes=0-3", "If-None-Match": etag},
    )
    assert again.status_code == 304 and again.content == b""
