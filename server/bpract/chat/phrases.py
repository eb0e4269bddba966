"""The chat's fixed sentences in each supported language, and spotting a request for a person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bpract.text import spoken_words

__all__ = ["Phrases", "asks_for_human", "phrases"]


@dataclass(frozen=True, slots=True)
class Phrases:
    offline_intro: str
    """Opens an extractive answer: it is automatic, taken from the help centre."""
    unknown: str
    """Retrieval found nothing good enough: say so, offer a person."""
    handoff: str
    """The visitor asked for a person (or no model could answer)."""


_PHRASES: Final[dict[str, Phrases]] = {
    "en": Phrases(
        offline_intro="This is an automatic answer taken from our help centre:",
        unknown=(
            "I'm sorry, I don't know the answer to that, and I'd rather not guess. "
            "Would you like me to pass your question to a person on the team?"
        ),
        handoff=(
            "Of course. I'm passing this conversation to a person on the team; "
            "they will answer here as soon as they can."
        ),
    ),
    "fr": Phrases(
        offline_intro="Voici une réponse automatique tirée de notre centre d'aide :",
        unknown=(
            "Désolé, je ne connais pas la réponse et je préfère ne pas deviner. "
            "Voulez-vous que je transmette votre question à une personne de l'équipe ?"
        ),
        handoff=(
            "Bien sûr. Je transmets cette conversation à une personne de l'équipe, "
            "qui vous répondra ici dès que possible."
        ),
    ),
    "de": Phrases(
        offline_intro="Dies ist eine automatische Antwort aus unserem Hilfe-Center:",
        unknown=(
            "Das weiß ich leider nicht, und ich möchte nicht raten. "
            "Soll ich Ihre Frage an eine Person aus dem Team weitergeben?"
        ),
        handoff=(
            "Gern. Ich gebe dieses Gespräch an eine Person aus dem Team weiter; "
            "sie antwortet Ihnen hier so bald wie möglich."
        ),
    ),
    "es": Phrases(
        offline_intro="Esta es una respuesta automática de nuestro centro de ayuda:",
        unknown=(
            "Lo siento, no sé la respuesta y prefiero no adivinar. "
            "¿Quiere que pase su pregunta a una persona del equipo?"
        ),
        handoff=(
            "Por supuesto. Paso esta conversación a una persona del equipo, "
            "que le responderá aquí lo antes posible."
        ),
    ),
    "it": Phrases(
        offline_intro="Questa è una risposta automatica dal nostro centro assistenza:",
        unknown=(
            "Mi dispiace, non conosco la risposta e preferisco non indovinare. "
            "Vuole che passi la sua domanda a una persona del team?"
        ),
        handoff=(
            "Certo. Passo questa conversazione a una persona del team, "
            "che le risponderà qui il prima possibile."
        ),
    ),
    "nl": Phrases(
        offline_intro="Dit is een automatisch antwoord uit ons helpcentrum:",
        unknown=(
            "Sorry, dat weet ik niet en ik gok liever niet. "
            "Zal ik uw vraag doorgeven aan iemand van het team?"
        ),
        handoff=(
            "Natuurlijk. Ik geef dit gesprek door aan iemand van het team; "
            "die antwoordt hier zo snel mogelijk."
        ),
    ),
    "pt": Phrases(
        offline_intro="Esta é uma resposta automática do nosso centro de ajuda:",
        unknown=(
            "Desculpe, não sei a resposta e prefiro não adivinhar. "
            "Quer que eu passe a sua pergunta a uma pessoa da equipa?"
        ),
        handoff=(
            "Claro. Vou passar esta conversa a uma pessoa da equipa, "
            "que lhe responderá aqui assim que possível."
        ),
    ),
}


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that ask for a person, per language (whole words, lower case).
_HUMAN_WORDS: Final = _wordset(
    "human humans agent agents person operator representative someone"
    " humain humaine conseiller conseillère opérateur quelqu'un"
    " mensch menschen mitarbeiter mitarbeiterin berater beraterin"
    " humano humana persona agente operador operadora"
    " umano operatore persone"
    " medewerker mens iemand"
    " pessoa atendente"
)
_LONGEST_REQUEST: Final = 16  # words; a longer message is a question that mentions people


def phrases(lang: str) -> Phrases:
    """The sentences for ``lang`` (English when there are none for it)."""
    return _PHRASES.get(lang, _PHRASES["en"])


def asks_for_human(text: str) -> bool:
    """A short message naming a person, an agent or a human, in any supported language."""
    words = spoken_words(text)
    return 0 < len(words) <= _LONGEST_REQUEST and any(w in _HUMAN_WORDS for w in words)
