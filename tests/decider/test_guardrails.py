"""The checks in code on a model's proposal, one refusal at a time."""

from __future__ import annotations

import pytest

from bpract.triggers.guardrails import (
    MAX_MESSAGE,
    GuardrailError,
    check_cta,
    check_language,
    check_message,
    check_offer,
    primary_language,
)
from bpract_client.rules import CTA, Message, Rule

RULE = Rule(
    id="offer",
    message=Message(text="Hi", cta=CTA(label="Annual", url="https://shop.example/pricing")),
    offers=["annual-20", "free-shipping"],
)


def test_message_length_is_bounded() -> None:
    assert check_message("  " + "a" * MAX_MESSAGE + "  ") == "a" * MAX_MESSAGE
    with pytest.raises(GuardrailError, match="characters"):
        check_message("a" * (MAX_MESSAGE + 1))
    with pytest.raises(GuardrailError, match="empty"):
        check_message("   ")


@pytest.mark.parametrize("text", ["see https://x.example", "go to www.x.example", "HTTP://x.y"])
def test_links_in_the_text_are_refused(text: str) -> None:
    with pytest.raises(GuardrailError, match="link"):
        check_message(text)


def test_only_the_rules_offers() -> None:
    assert check_offer(RULE, "annual-20") == "annual-20"
    assert check_offer(RULE, None) is None and check_offer(RULE, "") is None
    with pytest.raises(GuardrailError, match="not one of"):
        check_offer(RULE, "half-price")
    with pytest.raises(GuardrailError):
        check_offer(Rule(id="plain", message=Message(text="Hi")), "annual-20")


def test_cta_is_the_rules_url_or_a_same_site_path() -> None:
    assert check_cta(RULE, "Annual", "https://shop.example/pricing") == CTA(
        label="Annual", url="https://shop.example/pricing"
    )
    assert check_cta(RULE, "Sizes", "/help/sizing") == CTA(label="Sizes", url="/help/sizing")
    assert check_cta(RULE, "Chat", None) == CTA(label="Chat", url=None)
    assert check_cta(RULE, None, None) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/",
        "//evil.example/x",
        "javascript:alert(1)",
        "/\\evil.example",
        "/%2F/evil.example",
        "/%5Cevil.example",
        "/\t/evil.example",
        "/\u200b/evil.example",
        "https://shop.example@evil.example/pricing",
        "data:text/html,x",
    ],
)
def test_foreign_links_are_refused(url: str) -> None:
    with pytest.raises(GuardrailError, match="leaves the site"):
        check_cta(RULE, "Go", url)


def test_a_rules_own_hostile_url_is_not_copied() -> None:
    stored = Rule(
        id="r",
        message=Message(text="Hi", cta=CTA(label="Go", url="//evil.example/x")),
    )
    with pytest.raises(GuardrailError):
        check_cta(stored, "Go", "//evil.example/x")


def test_a_cta_needs_a_short_label() -> None:
    with pytest.raises(GuardrailError, match="label"):
        check_cta(RULE, None, "/pricing")
    with pytest.raises(GuardrailError):
        check_cta(RULE, "x" * 61, "/pricing")


@pytest.mark.parametrize(
    ("lang", "primary"), [("fr-FR", "fr"), ("pt_BR", "pt"), ("EN", "en"), (None, None), ("", None)]
)
def test_primary_language(lang: str | None, primary: str | None) -> None:
    assert primary_language(lang) == primary


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("fr-FR", "Are you comparing the plans? We can help you with that."),
        ("en-GB", "Vous comparez les formules ? Nous pouvons vous aider."),
        ("de-DE", "Are you looking for the right size? We have a guide for that."),
        ("en-US", "Suchen Sie die richtige Größe? Wir haben eine Tabelle für Sie und ihr Team."),
    ],
)
def test_a_message_in_another_language_is_refused(lang: str, message: str) -> None:
    with pytest.raises(GuardrailError, match="reads as"):
        check_language(message, lang)


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("fr-FR", "Vous comparez les formules ? L'abonnement annuel coûte 20 % de moins."),
        ("en-GB", "Comparing the plans? Annual billing saves 20%."),
        ("fr-FR", "Club Basic : 7,20 € !"),  # names and numbers only: nothing to judge
        ("ja-JP", "Are you comparing the plans? We can help you with that."),  # not checked
        (None, "Are you comparing the plans?"),
        ("fr-FR", "Bonjour ! Une question sur la taille ?"),
        ("en-GB", "Hello! Any question about the Club?"),  # "Club" is no French word
    ],
)
def test_a_message_in_the_page_language_or_unjudgeable_passes(
    lang: str | None, message: str
) -> None:
    check_language(message, lang)
