"""Grounded and invented answers over the demo help pages: the grounding calibration set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CASES", "Case", "passage"]

_REFUNDS = (
    "When a return arrives at our warehouse we check it within two working days and then "
    "refund the items to the payment method you used:\n- cards and PayPal: the refund is "
    "issued within 5 working days of the return arriving, and your bank may take 3–5 more "
    "working days to show it;\n- delivery costs are refunded only when the whole order is "
    "returned because it was faulty or we sent the wrong item;\n- without a membership, €3.95 "
    "is taken from the refund to cover the return label."
)
_SHIPPING = (
    "| Option | Time | Price without a membership | Club members |\n"
    "| Standard | 3–5 working days | €4.95, free on orders of €60 or more | Free on every order "
    "(all plans) |\n| Express | Next working day when ordered by 14:00 CET | €9.95 | Free with "
    "Club Plus and Club Premium; €9.95 with Club Basic |\nWorking days are Monday to Friday. "
    "Our couriers do not deliver on Saturdays, Sundays or French public holidays, and orders "
    "placed after 14:00 CET on a Friday leave the warehouse on Monday."
)
_PAUSE = (
    "Not shopping for a while? Instead of cancelling, you can pause your Club membership for "
    "one, two or three months.\n- Nothing is charged.\n- Your renewal date moves back by the "
    "length of the pause.\n- Member benefits (member price, free delivery and returns, "
    "repairs) are on hold.\n- The membership restarts by itself when the pause ends.\n"
    "- A cancelled membership cannot be paused."
)
_RETURNS = (
    "| Without a membership | 30 days from delivery | €3.95, taken from your refund |\n"
    "| Club Basic | 30 days from delivery | Free |\n| Club Plus and Club Premium | 60 days "
    "from delivery | Free |\nExchanging an item for another size of the same product is free "
    "for everyone, within the return window."
)


def passage(title: str, text: str, n: int = 1) -> dict[str, Any]:
    return {"chunk_id": n, "title": title, "url": f"/help/{title.lower()}", "section": title,
            "text": text, "score": 0.5}  # fmt: skip


@dataclass(frozen=True)
class Case:
    name: str
    answer: str
    passages: list[dict[str, Any]]
    grounded: bool


_R = [passage("Refunds", _REFUNDS)]
_S = [passage("Shipping", _SHIPPING)]
_P = [passage("Pausing", _PAUSE)]
_T = [passage("Returns", _RETURNS)]

CASES: list[Case] = [
    # Grounded: extractive, paraphrased, with framing and citation markers.
    Case(
        "refund extractive",
        "(Offline answer, taken from this site's help pages.) cards and "
        "PayPal: the refund is issued within 5 working days of the return arriving [1].",
        _R,
        True,
    ),
    Case(
        "refund paraphrase",
        "Once your return reaches the warehouse it is checked within two "
        "working days, then refunded to the card or PayPal account you paid with [1]. Your "
        "bank may need 3–5 more working days to show it. I hope this helps!",
        _R,
        True,
    ),
    Case(
        "label fee",
        "Without a membership, €3.95 is deducted from your refund to pay for the return label [1].",
        _R,
        True,
    ),
    Case(
        "express price",
        "Express delivery arrives the next working day if you order by "
        "14:00 CET and costs €9.95 without a membership [1]. It is free with Club Plus and "
        "Club Premium.",
        _S,
        True,
    ),
    Case(
        "weekend",
        "Our couriers don't deliver on Saturdays or Sundays [1]. Would you like to know more?",
        _S,
        True,
    ),
    Case(
        "pause",
        "You can pause your Club membership for one, two or three months instead "
        "of cancelling it [1]. Nothing is charged while it is paused, and it restarts by "
        "itself when the pause ends.",
        _P,
        True,
    ),
    Case(
        "return window",
        "Club Plus and Club Premium members have 60 days from delivery to "
        "return items, for free [1]. Exchanging for another size is free for everyone.",
        _T,
        True,
    ),
    Case(
        "free standard",
        "Standard delivery takes 3–5 working days and is free on orders of €60 or more [1].",
        _S,
        True,
    ),
    # Invented: wrong figures, flipped negation, policies nobody wrote.
    Case(
        "wrong days",
        "Refunds to cards and PayPal are issued within 14 working days of the return arriving [1].",
        _R,
        False,
    ),
    Case(
        "wrong fee",
        "Without a membership, €5.95 is taken from your refund for the return label [1].",
        _R,
        False,
    ),
    Case("flipped weekend", "Our couriers deliver on Saturdays and Sundays too [1].", _S, False),
    Case(
        "cash refund",
        "You can also get your refund in cash at any of our shops in Lyon, "
        "usually the same afternoon.",
        _R,
        False,
    ),
    Case(
        "worldwide",
        "We ship worldwide, including the United States and Japan, and customs "
        "duties are always included in the price.",
        _S,
        False,
    ),
    Case(
        "pause six",
        "You can pause your membership for up to 6 months and keep your member "
        "prices during the pause [1].",
        _P,
        False,
    ),
    Case(
        "cancelled pause",
        "A cancelled membership can be paused at any time from your account page.",
        _P,
        False,
    ),
    Case(
        "gift wrap",
        "Every order comes with free gift wrapping and a handwritten card if "
        "you ask in the comments at checkout.",
        _T,
        False,
    ),
    Case(
        "mixed",
        "Club Basic members can return items within 30 days of delivery for free "
        "[1]. Returned shoes are also repaired for free and sent back within a week, and "
        "every member gets a birthday voucher worth twenty euros.",
        _T,
        False,
    ),
]
