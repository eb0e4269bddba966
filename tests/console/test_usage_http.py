"""The usage page: the day's cost by department, per-day breakdowns, budgets an owner sets."""

from __future__ import annotations

import re

from console.conftest import AGENT, MARKETER, OWNER, RIVAL, TODAY_ACME, Console, signed
from inbox.conftest import csrf_of


def usage_url(console: Console, site: str | None = None) -> str:
    return f"/console/s/{site or console.acme.public_key}/usage"


def today_row(page: str, department: str) -> str:
    found = re.search(rf'<tr data-department="{department}">(.*?)</tr>', page, re.S)
    assert found is not None, department
    return found[1]


def test_an_owner_reads_the_day_s_cost_by_department(console: Console) -> None:
    with signed(console, OWNER) as olive:
        page = olive.get(usage_url(console))
        assert page.status_code == 200
        total = sum(TODAY_ACME.values()) / 1e9
        assert f"${total:,.4f}</h2>" in page.text
        assert "$0.0025" in today_row(page.text, "sales")  # two decisions of $0.00125
        assert "$0.0400" in today_row(page.text, "support")
        # the breakdowns have every model and task of the period, and nothing of Globex
        assert "claude-sonnet-4-5" in page.text and "chat_answer" in page.text
        assert "globex-only-department" not in page.text
        assert '<script type="application/json" id="usage-data">' in page.text
        assert "Set a budget" in page.text


def test_an_owner_sets_a_department_budget_and_sees_today_against_it(console: Console) -> None:
    with signed(console, OWNER) as olive:
        csrf = csrf_of(olive.get(usage_url(console)).text)
        done = olive.post(usage_url(console) + "/budgets", data={
            "csrf": csrf, "department": "support", "period": "day", "soft_usd": "0.04",
            "hard_usd": "0.05"})  # fmt: skip
        assert done.status_code == 303
        row = today_row(olive.get(usage_url(console)).text, "support")
        assert '<span class="meter warn">80%</span> of $0.0500' in row
        for bad in ({"period": "year"}, {"hard_usd": "-1"}, {"hard_usd": "lots"},
                    {"soft_usd": "NaN"}):  # fmt: skip
            form = {"csrf": csrf, "department": "support", "period": "day", **bad}
            assert olive.post(usage_url(console) + "/budgets", data=form).status_code == 422
        assert olive.post(usage_url(console) + "/budgets",
                          data={"period": "day", "hard_usd": "1"}).status_code == 403  # fmt: skip


def test_a_marketer_and_an_agent_read_usage_but_cannot_set_budgets(console: Console) -> None:
    for email in (MARKETER, AGENT):
        with signed(console, email) as person:
            page = person.get(usage_url(console))
            assert page.status_code == 200 and "Set a budget" not in page.text
            form = {"csrf": csrf_of(page.text), "period": "day", "hard_usd": "1000"}
            assert person.post(usage_url(console) + "/budgets", data=form).status_code == 403


def test_another_organisation_cannot_read_or_set_acme_s_usage(console: Console) -> None:
    with signed(console, RIVAL) as gus:
        assert gus.get(usage_url(console)).status_code == 404
        own = gus.get(usage_url(console, console.globex.public_key))
        assert own.status_code == 200 and "globex-only-department" in own.text
        assert "claude-sonnet-4-5" not in own.text
        form = {"csrf": csrf_of(own.text), "period": "day", "hard_usd": "0"}
        assert gus.post(usage_url(console) + "/budgets", data=form).status_code == 404
