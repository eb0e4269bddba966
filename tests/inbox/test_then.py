"""Where a sign-in leads: only to a page of the inbox or the console of this server."""

from __future__ import annotations

import pytest

from bpract.inbox.routes import then_path


@pytest.mark.parametrize(
    "given",
    ["/console", "/console/rules", "/console/rules/r_cart-churn/edit", "/inbox", "/inbox/c/c_1"],
)
def test_a_page_of_the_inbox_or_console_is_kept(given: str) -> None:
    assert then_path(given) == given


@pytest.mark.parametrize(
    "given",
    [
        None,
        "",
        "https://evil.example/console",
        "//evil.example/console",
        "/console//evil.example",
        "/console/../v1/sites",
        "/consolex",
        "/inbox\\evil",
        "/v1/sites",
        "/console?x=1",
        "javascript:alert(1)",
    ],
)
def test_anything_else_leads_to_the_inbox(given: str | None) -> None:
    assert then_path(given) == "/inbox"
