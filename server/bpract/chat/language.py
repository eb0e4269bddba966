"""The visitor's language from their message: common-word counts, falling back to ``hello.lang``."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["LANGUAGES", "detect_language", "language_name"]

#: Languages told apart by their common words; the chat's fixed sentences exist for these.
LANGUAGES: Final = ("en", "fr", "de", "es", "it", "nl", "pt")

_NAMES: Final = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
}


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words frequent in each language and rare in the others (shared ones left out).
_STOPWORDS: Final[dict[str, frozenset[str]]] = {
    "en": _wordset(
        "the and is are was were you your my i it this that what how can do does have has"
        " with for not of to be will would should could please why when where which there"
        " they we our me an"
    ),
    "fr": _wordset(
        "le la les et est sont je tu vous nous mon ma mes votre vos ce cette qui que quoi"
        " comment pourquoi quand où avec pour pas une des du au aux il elle ils être avoir"
        " puis peux pouvez merci bonjour ne sur mais ou"
    ),
    "de": _wordset(
        "der die das und ist sind ich du sie wir mein meine ihr ihre nicht mit für wie was"
        " warum wann wo kann können ein eine einen dem den zu auf bitte danke hallo auch"
        " es ich habe hat ob oder"
    ),
    "es": _wordset(
        "el la los las y es son yo tú usted mi mis su sus que qué cómo por para con no una"
        " unos del al puedo puede hola gracias está estoy pero cuando dónde también mí"
    ),
    "it": _wordset(
        "il lo gli le e è sono io tu lei mio mia miei che come perché quando dove con per"
        " non una uno del della posso può ciao grazie anche ma sul nel questo"
    ),
    "nl": _wordset(
        "de het een en is zijn ik jij u wij mijn uw niet met voor hoe wat waarom wanneer"
        " waar kan kunnen dat dit van op te bedankt hallo ook maar graag mijn"
    ),
    "pt": _wordset(
        "o a os as e é são eu você meu minha seu sua que como por para com não uma um do"
        " da dos das posso pode olá obrigado obrigada também mas quando onde"
    ),
}
_WORD: Final = re.compile(r"[^\W\d_]+", re.UNICODE)


def _from_tag(tag: str | None) -> str | None:
    """``"fr-CA"`` → ``"fr"`` when it is one we know."""
    if not tag:
        return None
    base = tag.strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else None


def detect_language(text: str, hint: str | None = None, default: str = "en") -> str:
    """The language of ``text``: the one with most common words, at least two of them.

    A short or ambiguous message falls back to ``hint`` (the browser's language
    tag, e.g. ``"de-AT"``), then to ``default``.
    """
    words = [w.lower() for w in _WORD.findall(text)]
    counts = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    if top >= 2 and top > second:
        return best
    hinted = _from_tag(hint)
    if hinted is not None and (top == 0 or counts[hinted] == top):
        return hinted
    if top >= 1 and top > second:
        return best
    return hinted or default


def language_name(code: str) -> str:
    """English name of a language code, for the model's instructions."""
    return _NAMES.get(code, code)
