"""bpract.links: only absolute http(s) URLs and site paths, every hostile form refused."""

from __future__ import annotations

import pytest

from bpract.links import MAX_LINK, is_site_path, safe_link

ACCEPTED = [
    "https://shop.example/pricing",
    "http://shop.example",
    "HTTPS://Shop.Example/a?b=c#d",
    "https://shop.example:8443/x",
    "https://[2001:db8::1]:8443/x",
    "https://bücher.example/straße",
    "https://shop.example/a%20b",
    "/pricing?billing=annual",
    "/help/sizing#faq",
    "/",
    "/a/b%20c",
]

HOSTILE = [
    # other schemes, however they are written
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x00javascript:alert(1)",
    "javascript%3Aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://shop.example/",
    "blob:https://shop.example/x",
    # scheme-relative and backslash forms
    "//evil.example/x",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil",
    "\\/evil.example",
    "/%2Fevil.example",
    "/%2fevil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/ /evil.example",
    "/\u200b/evil.example",
    "/\u202e/evil.example",
    "/\u3000/evil.example",
    "/x\x7f",
    # relative forms that are not site paths
    "evil.example",
    "pricing",
    "./x",
    "../x",
    "?q=1",
    "#top",
    "%2F%2Fevil.example",
    # absolute forms a browser reads otherwise
    "https:evil.example",
    "https:/evil.example",
    "https:///evil.example",
    "https://",
    "https://shop.example@evil.example/",
    "https://user:pass@shop.example/",
    "https://%65vil.example/",
    "https://evil.example%2F@shop.example",
    "https://shop.example\\@evil.example",
    "https://shop.example:99999/",
    "https://shop.example:port/",
    "https://shop.example\t/",
    "https://shop .example/",
    "https://shop.example /",
    "https://evil.example\uff0eshop/",
    "https://-evil.example/",
    "https://" + "a" * MAX_LINK,
    "/" + "a" * MAX_LINK,
    "",
]


@pytest.mark.parametrize("url", ACCEPTED)
def test_http_urls_and_site_paths_are_kept_as_written(url: str) -> None:
    assert safe_link(url) == url


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_forms_are_refused(url: str) -> None:
    assert safe_link(url) is None
    assert not is_site_path(url)


@pytest.mark.parametrize("value", [None, 1, b"/x", ["/x"]])
def test_what_is_not_a_string_is_refused(value: object) -> None:
    assert safe_link(value) is None
