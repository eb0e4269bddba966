"""The chat's fixed sentences in each supported language, and spotting a request for a person."""

from __future__ import annotations

import itertools
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
    ask_person: str
    """The visitor's turn when they click "Talk to a person"."""
    ticket: str
    """A person was asked for but no one can answer live: leave an email and the question."""


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
        ask_person="I would like to talk to a person.",
        ticket=(
            "No one from the team can answer live right now. "
            "Leave your email address and your question, and we will write back."
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
        ask_person="Je voudrais parler à une personne.",
        ticket=(
            "Personne de l'équipe ne peut répondre en direct pour le moment. "
            "Laissez votre adresse e-mail et votre question, et nous vous écrirons."
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
        ask_person="Ich möchte mit einer Person sprechen.",
        ticket=(
            "Gerade kann niemand aus dem Team live antworten. "
            "Hinterlassen Sie Ihre E-Mail-Adresse und Ihre Frage, dann schreiben wir Ihnen zurück."
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
        ask_person="Quisiera hablar con una persona.",
        ticket=(
            "Ahora mismo nadie del equipo puede responder en directo. "
            "Deje su dirección de correo electrónico y su pregunta, y le escribiremos."
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
        ask_person="Vorrei parlare con una persona.",
        ticket=(
            "Al momento nessuno del team può rispondere dal vivo. "
            "Lasci il suo indirizzo email e la sua domanda, e le scriveremo."
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
        ask_person="Ik wil graag met iemand spreken.",
        ticket=(
            "Er kan op dit moment niemand van het team live antwoorden. "
            "Laat uw e-mailadres en uw vraag achter, dan schrijven we u terug."
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
        ask_person="Gostaria de falar com uma pessoa.",
        ticket=(
            "Neste momento ninguém da equipa pode responder em direto. "
            "Deixe o seu endereço de email e a sua pergunta, e nós escrevemos-lhe."
        ),
    ),
}


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A request for a person, in each language the chat answers in: a verb of reaching someone
# ("talk", "parler", "sprechen") with a person within a few words of it, or a message that is
# nothing but a person ("a human, please"). Naming people is not asking for one: "following
# someone on Twitter", "videos by the same person" and "could someone steal it?" are questions.
# (Calling is left out: "how do I call someone from the app" is a question about calls; and
# "transfer" wants a strong person: "the person I sent the transfer to" is about money.)
_REACH: Final = _wordset(
    "talk speak chat connect escalate reach contact"
    " parler discuter contacter joindre"
    " sprechen reden verbinden weiterleiten kontaktieren erreichen"
    " hablar comunicarme contactar"
    " parlare contattare"
    " spreken praten doorverbinden"
    " falar contactar contatar"
)
# Weaker: "I want a human" asks, "I want someone to explain" does not; a strong person is needed.
_WANT: Final = _wordset(
    "want need get give put pass transfer"
    " veux voudrais veut besoin passer transférer"
    " möchte will brauche hätte gerne"
    " quiero necesito quisiera pasar pásame transferir"
    " voglio vorrei passare passarmi"
    " wil wel graag"
    " quero preciso queria passar"
)
# Nobody could mean anything else.
_STRONG: Final = _wordset(
    "human humans agent agents operator representative rep staff manager supervisor"
    " humain humaine humains conseiller conseillère opérateur opératrice"
    " mensch menschen menschlichen mitarbeiter mitarbeiterin berater beraterin kundenberater"
    " humano humana agente operador operadora asesor asesora"
    " umano operatore operatrice consulente"
    " kundenservice kundendienst medewerker mens klantenservice atendimento"
    " humano atendente"
)
# A person only when asked for: "talk to someone", never "someone might read my mail".
_WEAK: Final = _wordset(
    "person someone somebody people"
    " personne quelqu'un"
    " person jemand jemandem jemanden"
    " persona alguien"
    " persona qualcuno"
    " iemand persoon"
    " pessoa alguém"
)
# Words a bare request may hold besides its person: "a real human please", "un humain svp".
_FILLER: Final = _wordset(
    "a an the real live actual please pls now i me to with can could talk speak"
    " un une vrai vraie s'il vous plaît svp à avec"
    " ein einen einem eine echten echter bitte mit"
    " una uno un con por favor real"
    " un una vero vera per favore"
    " een echte alstublieft graag met"
    " um uma verdadeiro por favor"
    " customer service support team care"
)
# Two words that together name the people who answer: "customer service", "service client".
_TEAMS: Final = frozenset(
    {("customer", "service"), ("customer", "support"), ("customer", "care"),
     ("support", "team"), ("service", "client"), ("servicio", "cliente")}
)  # fmt: skip
_NEGATION: Final = _wordset(
    "don't dont not no never won't"
    " pas ne jamais"
    " nicht kein keine nie"
    " no nunca nada"
    " non mai"
    " niet geen nooit"
    " não nunca"
)
_NEAR: Final = 4  # words between the verb and its person
_LONGEST_REQUEST: Final = 20  # words; a longer message is a question that mentions people


def asks_for_human(text: str) -> bool:
    """Whether the message asks for a person, in any language the chat answers in.

    A request reaches for someone ("can I talk to someone?", "je veux parler à
    quelqu'un", "ich möchte mit einem Menschen sprechen"), wants an unambiguous
    person ("I need a human"), or is one ("agent", "a real person, please"). A
    negated request ("I don't want to talk to a human") is not one.
    """
    words = spoken_words(text)
    if not 0 < len(words) <= _LONGEST_REQUEST:
        return False
    strong = {i for i, w in enumerate(words) if w in _STRONG}
    strong |= {i + 1 for i, pair in enumerate(itertools.pairwise(words)) if pair in _TEAMS}
    people = sorted(strong | {i for i, w in enumerate(words) if w in _WEAK})
    if not people:
        return False
    bare = all(w in _FILLER or w in _STRONG or w in _WEAK for w in words)
    if bare and (strong or "person" in words):
        return True
    for i, word in enumerate(words):
        if word not in _REACH and word not in _WANT:
            continue
        for j in people:
            if abs(j - i) > _NEAR + 1 or (word not in _REACH and j not in strong):
                continue
            span = words[max(0, min(i, j) - 3) : max(i, j)]  # "nicht" may sit between them
            if not any(w in _NEGATION for w in span):
                return True
    return False


def phrases(lang: str) -> Phrases:
    """The sentences for ``lang`` (English when there are none for it)."""
    return _PHRASES.get(lang, _PHRASES["en"])
