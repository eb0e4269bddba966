"""Checks in code on a model's outreach proposal: length, offers, links, language.

A proposal that fails one is refused whole (:class:`GuardrailError`), which the
decider seam treats like any decider failure: the rule's ``on_decider_failure``.

The language check is a cheap heuristic, not a classifier: each supported
language has a short list of function words that belong to it alone (a word
listed for two languages counts for neither).  A message is refused when it has
none of the page language's words and at least :data:`FOREIGN_WORDS` of another
language's.  Pages in other languages, and short messages made of names and
numbers, pass.
"""

from __future__ import annotations

import re
from collections import Counter

from bpract.links import is_site_path, safe_link
from bpract_client.rules import CTA, Rule

__all__ = [
    "FOREIGN_WORDS",
    "MAX_MESSAGE",
    "GuardrailError",
    "check_cta",
    "check_language",
    "check_message",
    "check_offer",
    "primary_language",
]

#: Longest proactive message a model may write (the rule's own message may be longer).
MAX_MESSAGE = 300
#: Function words of another language that, with none of the page's, refuse a message.
FOREIGN_WORDS = 2

_WORDS: dict[str, str] = {
    "en": "the and you your with for this that are our have we what it's",
    "fr": "le la les vous votre vos et est une des pour avec nous sur du au pas ce",
    "de": "der die das und sie ihr ist mit für ein eine nicht wir zu auf den",
    "es": "el los las usted su con para una que está es nuestro por del",
    "it": "il lo gli che con per una è sono non della del di",
    "nl": "de het een en je jij uw met voor is niet van we",
    "pt": "o os as você seu sua com para uma é não do da em",
}
_SEEN = Counter(w for words in _WORDS.values() for w in set(words.split()))
_OWN: dict[str, frozenset[str]] = {
    lang: frozenset(w for w in words.split() if _SEEN[w] == 1) for lang, words in _WORDS.items()
}
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_ABSOLUTE_LINK = re.compile(r"(?i)\b(?:https?://|www\.)")


class GuardrailError(ValueError):
    """A model's proposal broke a rule the product enforces in code."""


def primary_language(lang: str | None) -> str | None:
    """``"fr-CA"`` → ``"fr"``; None for none."""
    if not lang:
        return None
    return lang.replace("_", "-").split("-")[0].lower() or None


def check_message(message: str) -> str:
    """The stripped message; refused when empty, too long, or carrying an absolute link."""
    text = message.strip()
    if not text:
        raise GuardrailError("empty message")
    if len(text) > MAX_MESSAGE:
        raise GuardrailError(f"message is {len(text)} characters (at most {MAX_MESSAGE})")
    if _ABSOLUTE_LINK.search(text):
        raise GuardrailError("message carries a link; links go in the call to action")
    return text


def check_offer(rule: Rule, offer: str | None) -> str | None:
    """The offer, if it is one the rule allows."""
    if offer is None or offer == "":
        return None
    if offer not in rule.offers:
        raise GuardrailError(f"offer {offer!r} is not one of the rule's offers {rule.offers}")
    return offer


def check_cta(rule: Rule, label: str | None, url: str | None) -> CTA | None:
    """The call to action: the rule's URL or a path on the same site, with a short label."""
    if not label and not url:
        return None
    if not label:
        raise GuardrailError("a call to action needs a label")
    allowed = rule.message.cta.url if rule.message.cta else None
    if url is not None and (url != allowed or safe_link(url) is None) and not is_site_path(url):
        raise GuardrailError(
            f"call to action leaves the site (neither the rule's URL nor a path on it): {url!r}"
        )
    try:
        return CTA(label=label.strip(), url=url)
    except ValueError as exc:
        raise GuardrailError(str(exc)) from None


def check_language(message: str, lang: str | None) -> None:
    """Refuse ``message`` when it reads as another language than the page's (see above)."""
    page = primary_language(lang)
    if page not in _OWN:
        return
    tokens = [t.lower() for t in _TOKEN.findall(message)]
    hits = {code: sum(t in words for t in tokens) for code, words in _OWN.items()}
    if hits[page]:
        return
    foreign, count = max(((c, n) for c, n in hits.items() if c != page), key=lambda cn: cn[1])
    if count >= FOREIGN_WORDS:
        raise GuardrailError(f"message reads as {foreign!r}, the page is {page!r}")
