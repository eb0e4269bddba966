"""Message templates: values filled in, cents as money, placeholders kept for the card's form."""

from __future__ import annotations

import pytest

from bpract.actions.templates import TemplateError, cents, placeholders, render


def test_values_are_filled_in_and_cents_read_as_money() -> None:
    text = render("Refund {amount_cents:cents} EUR for {reason}.", {"amount_cents": 1250})
    assert text == "Refund 12.50 EUR for ."
    assert render("You are on {traits.plan}.", {"traits": {"plan": "plus"}}) == "You are on plus."
    assert render("{flag} / {nested}", {"flag": True, "nested": {"a": 1}}) == "yes / "
    assert [cents(v) for v in (0, 5, 1250, -1250)] == ["0.00", "0.05", "12.50", "-12.50"]


def test_kept_placeholders_stay_for_the_form_and_literal_braces_are_doubled() -> None:
    template = "Move to the {plan} plan ({{beta}}), {amount_cents:cents} EUR, billed {billing}."
    values = {"billing": "monthly", "plan": "basic", "amount_cents": 900}
    kept = render(template, values, keep={"plan", "amount_cents"})
    assert kept == "Move to the {plan} plan ({{beta}}), {amount_cents:cents} EUR, billed monthly."
    assert render(template, values) == "Move to the basic plan ({beta}), 9.00 EUR, billed monthly."


@pytest.mark.parametrize("bad", ["{}", "{plan!r}", "{a[0]}", "{amount:euros}", "{unclosed"])
def test_malformed_placeholders_are_refused(bad: str) -> None:
    with pytest.raises(TemplateError):
        placeholders(bad)
