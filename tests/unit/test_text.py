"""bpract.text: words for matching, contractions kept whole, the extractive quote."""

from __future__ import annotations

from bpract.text import Quote, content_words, quote, spoken_words, terms, words


def test_words_are_letters_or_digits_in_any_script() -> None:
    assert words("Größe: 3 days, api_key") == ["größe", "3", "days", "api", "key"]
    assert content_words("How do I get my cards?") == ["cards"]


def test_terms_fold_a_plural_s_but_not_ss() -> None:
    assert terms("Cards arrive at the address in buses") == ["card", "arrive", "address", "buse"]


def test_spoken_words_keep_contractions_and_elisions_whole() -> None:
    assert spoken_words("Won’t quelqu'un help? Call 0800") == ["won't", "quelqu'un", "help", "call"]


def test_quote_picks_the_best_sentences_in_reading_order() -> None:
    texts = ["Shipping takes 3 days. Returns are free.", "Cards arrive by post. Cards are blue."]
    assert quote("When do cards arrive?", texts, most=1) == [Quote("Cards arrive by post.", 1)]
    assert quote("Anything about llamas?", texts) == []
    assert quote("llamas", texts, first_if_none=True) == [Quote("Shipping takes 3 days.", 0)]
    assert quote("cards", texts, allowed=lambda s: "blue" not in s) == [
        Quote("Cards arrive by post.", 1)
    ]
