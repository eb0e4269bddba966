"""The console's rule pages over HTTP: sign-in leads back, validation at the field, saving
makes a version, roles and tenancy refuse what they must, history and restore."""

from __future__ import annotations

import re

import httpx

from console.conftest import AGENT, MARKETER, OWNER, RIVAL, Console, Person, signed
from inbox.conftest import PASSWORD, csrf_of

NEW = {
    "id": "help-hello", "name": "Say hello on help", "department": "support", "priority": "1",
    "enabled": "on", "when": 'page: ["/help*"]\nattentive_seconds: 5', "goal": "",
    "message_text": "Need a hand?", "cta_label": "Read the guide", "cta_url": "/help/guide",
    "offers": "", "cap_count": "1", "cap_days": "1", "cooldown": "1h", "holdout": "0",
    "schedule": "", "on_decider_failure": "fallback",
}  # fmt: skip


def rules_url(console: Console, path: str = "", site: str | None = None) -> str:
    return f"/console/s/{site or console.acme.public_key}/rules{path}"


def field_error(page: str, field: str) -> str:
    """The error text shown under ``field`` (empty if none)."""
    found = re.search(rf'<p class="field-error" id="err-{field}">(.*?)</p>', page, re.S)
    return re.sub(r"<[^>]+>", " ", found[1]).strip() if found else ""


def test_the_console_sends_a_stranger_to_sign_in_and_back(console: Console) -> None:
    with Person(console.server) as person:
        page = person.get(rules_url(console))
        assert page.status_code == 303
        to = page.headers["location"]
        assert to == f"/inbox/sign-in?then=/console/s/{console.acme.public_key}/rules"
        form = person.get(to)
        assert 'name="then" value="/console/s/' in form.text
        done = person.post("/inbox/sign-in", data={
            "csrf": csrf_of(form.text), "email": MARKETER, "password": PASSWORD,
            "then": rules_url(console)})  # fmt: skip
        assert done.status_code == 303 and done.headers["location"] == rules_url(console)
        listed = person.get(rules_url(console))
        assert listed.status_code == 200 and "pricing-offer" in listed.text
    # a sign-in never leads off the server
    with Person(console.server) as other:
        evil = other.post("/inbox/sign-in", data={
            "csrf": other.sign_in_form(), "email": MARKETER, "password": PASSWORD,
            "then": "https://evil.example/"})  # fmt: skip
        assert evil.status_code == 303 and evil.headers["location"] == "/inbox"


def test_an_invalid_rule_is_shown_with_its_error_at_the_field_and_nothing_is_saved(
    console: Console,
) -> None:
    with signed(console, MARKETER) as mia:
        csrf = mia.page_token(rules_url(console, "/new"))
        bad = {**NEW, "csrf": csrf, "do": "save", "when": 'page: ["/help*"]\nattentiv_seconds: 5'}
        page = mia.post(rules_url(console, "/new"), data=bad)
        assert page.status_code == 422
        assert "attentive_seconds" in field_error(page.text, "when")  # did you mean
        assert 'id="f-when" name="when" rows="5" aria-invalid="true"' in page.text
        assert field_error(page.text, "message_text") == ""
        assert "help-hello" not in mia.get(rules_url(console)).text
        wrong = {"when": "page: [", "cooldown": "soon", "cta_url": "javascript:alert(1)"}
        broken = mia.post(
            rules_url(console, "/new"), data={**NEW, **wrong, "csrf": csrf, "do": "check"}
        )
        assert broken.status_code == 422
        assert "not valid YAML" in field_error(broken.text, "when")
        assert field_error(broken.text, "cooldown")
        assert field_error(broken.text, "cta_url")


def test_a_marketer_saves_a_new_rule_as_a_new_version_and_edits_it(console: Console) -> None:
    with signed(console, MARKETER) as mia:
        csrf = mia.page_token(rules_url(console, "/new"))
        checked = mia.post(rules_url(console, "/new"), data={**NEW, "csrf": csrf, "do": "check"})
        assert checked.status_code == 200 and "can be saved" in checked.text
        saved = mia.post(rules_url(console, "/new"), data={**NEW, "csrf": csrf, "do": "save"})
        assert saved.status_code == 303
        listed = mia.get(saved.headers["location"])
        assert "help-hello" in listed.text and "Saved." in listed.text
        rule = httpx.get(console.server.url + "/health")  # the server still answers
        assert rule.status_code == 200
        page = mia.get(rules_url(console, "/help-hello"))
        assert 'value="Need a hand?"' not in page.text and "Need a hand?" in page.text
        assert 'value="1h"' in page.text
        # edit: the id stays whatever the form says
        changed = {**NEW, "csrf": csrf, "do": "save", "message_text": "Stuck? Ask me.",
                   "id": "renamed"}  # fmt: skip
        assert mia.post(rules_url(console, "/help-hello"), data=changed).status_code == 303
        history = mia.get(rules_url(console, "/help-hello/history")).text
        assert history.count('class="version"') == 2
        assert '<span class="add">+  text: Stuck? Ask me.</span>' in history
        assert "Mia Marketer" in history
        assert "renamed" not in mia.get(rules_url(console)).text


def test_restore_brings_back_the_rule_as_it_was(console: Console) -> None:
    with signed(console, OWNER) as olive:
        csrf = olive.page_token(rules_url(console))
        first = {**NEW, "id": "restore-me", "csrf": csrf, "do": "save"}
        assert olive.post(rules_url(console, "/new"), data=first).status_code == 303
        second = {**first, "message_text": "A worse message"}
        assert olive.post(rules_url(console, "/restore-me"), data=second).status_code == 303
        history = olive.get(rules_url(console, "/restore-me/history")).text
        versions = re.findall(r'data-version="(\d+)"', history)
        assert len(versions) == 2
        done = olive.post(rules_url(console, "/restore-me/restore"),
                          data={"csrf": csrf, "version": versions[1]})  # fmt: skip
        assert done.status_code == 303
        assert "Need a hand?" in olive.get(rules_url(console, "/restore-me")).text
        after = olive.get(rules_url(console, "/restore-me/history")).text
        assert len(re.findall(r'data-version="(\d+)"', after)) == 3


def test_turning_a_rule_off_and_on(console: Console) -> None:
    with signed(console, MARKETER) as mia:
        csrf = mia.page_token(rules_url(console))
        off = mia.post(rules_url(console, "/pricing-offer/enabled"), data={"csrf": csrf, "on": ""})
        assert off.status_code == 303
        row = re.search(r'<tr data-rule="pricing-offer">.*?</tr>', mia.get(rules_url(console)).text)
        assert row is not None and "Off" in row[0] and "Turn on" in row[0]
        on = mia.post(rules_url(console, "/pricing-offer/enabled"), data={"csrf": csrf, "on": "on"})
        assert on.status_code == 303
        row = re.search(r'<tr data-rule="pricing-offer">.*?</tr>', mia.get(rules_url(console)).text)
        assert row is not None and "Live" in row[0]


def test_an_agent_reads_rules_but_cannot_change_them(console: Console) -> None:
    with signed(console, AGENT) as ana:
        listed = ana.get(rules_url(console))
        assert listed.status_code == 200 and "pricing-offer" in listed.text
        assert "New rule" not in listed.text and "Turn off" not in listed.text
        page = ana.get(rules_url(console, "/pricing-offer"))
        assert (
            "an owner or a marketer can change it" in page.text and 'value="save"' not in page.text
        )
        csrf = csrf_of(page.text)
        for path, data in [
            ("/new", {**NEW, "id": "by-agent", "do": "save"}),
            ("/pricing-offer", {**NEW, "id": "pricing-offer", "do": "save"}),
            ("/pricing-offer/enabled", {"on": ""}),
            ("/pricing-offer/restore", {"version": "1"}),
        ]:
            refused = ana.post(rules_url(console, path), data={**data, "csrf": csrf})
            assert refused.status_code == 403, path
        assert "by-agent" not in ana.get(rules_url(console)).text


def test_a_form_without_the_session_token_is_refused(console: Console) -> None:
    with signed(console, MARKETER) as mia:
        for token in ("", "forged"):
            refused = mia.post(rules_url(console, "/pricing-offer/enabled"),
                               data={"csrf": token, "on": ""})  # fmt: skip
            assert refused.status_code == 403
        assert "Live" in mia.get(rules_url(console)).text


def test_another_organisation_sees_nothing_of_acme(console: Console) -> None:
    with signed(console, RIVAL) as gus:
        home = gus.get("/console").text
        assert "Globex store" in home and "Acme shop" not in home
        assert console.acme.public_key not in home
        for path in ("", "/new", "/pricing-offer", "/pricing-offer/history"):
            assert gus.get(rules_url(console, path)).status_code == 404, path
        csrf = gus.page_token(rules_url(console, site=console.globex.public_key))
        for path, data in [
            ("/new", {**NEW, "do": "save"}),
            ("/pricing-offer", {**NEW, "id": "pricing-offer", "do": "save"}),
            ("/pricing-offer/enabled", {"on": ""}),
            ("/pricing-offer/restore", {"version": "1"}),
        ]:
            refused = gus.post(rules_url(console, path), data={**data, "csrf": csrf})
            assert refused.status_code == 404, path
        # Globex's own rules are its own
        assert "pricing-offer" in gus.get(rules_url(console, site=console.globex.public_key)).text
    with signed(console, MARKETER) as mia:
        assert "help-hello" not in mia.get(rules_url(console, site=console.globex.public_key)).text


def test_markup_in_a_rule_is_shown_as_text(console: Console) -> None:
    with signed(console, MARKETER) as mia:
        csrf = mia.page_token(rules_url(console))
        xss = "<img src=x onerror=alert(1)>"
        data = {**NEW, "id": "markup", "name": xss, "message_text": xss, "csrf": csrf, "do": "save"}
        assert mia.post(rules_url(console, "/new"), data=data).status_code == 303
        for path in ("", "/markup", "/markup/history"):
            page = mia.get(rules_url(console, path)).text
            assert xss not in page and "&lt;img src=x onerror=alert(1)&gt;" in page, path


def test_a_backtest_runs_on_the_draft_and_saves_nothing(console: Console) -> None:
    with signed(console, MARKETER) as mia:
        csrf = mia.page_token(rules_url(console, "/new"))
        draft = {**NEW, "id": "drafted", "csrf": csrf, "do": "backtest", "days": "30"}
        page = mia.post(rules_url(console, "/new"), data=draft)
        assert page.status_code == 200
        assert "Backtest: the last 30 days" in page.text and "It would have fired for" in page.text
        assert 'value="drafted"' in page.text  # the draft stays in the form
        assert "drafted" not in mia.get(rules_url(console)).text
        broken = mia.post(rules_url(console, "/new"), data={**draft, "holdout": "250"})
        assert broken.status_code == 422 and 'id="backtest"' not in broken.text
        assert field_error(broken.text, "holdout")
    with signed(console, AGENT) as ana:
        form = {**NEW, "csrf": ana.page_token(rules_url(console)), "do": "backtest"}
        assert ana.post(rules_url(console, "/new"), data=form).status_code == 403


def test_the_performance_page_shows_each_rule_s_comparison_to_its_organisation_only(
    console: Console,
) -> None:
    with signed(console, AGENT) as ana:  # reading is for everyone of the organisation
        page = ana.get(rules_url(console).replace("/rules", "/performance") + "?days=7&mde=20")
        assert page.status_code == 200
        card = re.search(r'<section class="card rule-perf" data-rule="pricing-offer">.*?</section>',
                         page.text, re.S)  # fmt: skip
        assert card is not None
        assert "Converted, held out" in card[0] and "0 of 0" in card[0]
        assert 'aria-current="true">7 days' in page.text and 'aria-current="true">20 %' in page.text
    with signed(console, RIVAL) as gus:
        assert gus.get(rules_url(console).replace("/rules", "/performance")).status_code == 404
