"""The console's HTML: every piece of text escaped here.

Pages work without script (forms post, links navigate); ``console.js`` (served from
``/console/static``, the only script the pages' policy allows) adds the live preview of a
rule's message as the widget will show it.
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from bpract.console.rule_form import RuleForm
from bpract.inbox import Agent
from bpract.sites.store import Site

__all__ = [
    "RuleRow",
    "VersionEntry",
    "edit_page",
    "history_page",
    "message_page",
    "plain_page",
    "rules_page",
    "sites_page",
    "usage_page",
]

_ACCESS: Final = {"owner": "Owner", "marketer": "Marketer", "agent": "Agent (read only)"}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _q(text: str) -> str:
    return quote(text, safe="")


def _hidden(csrf: str) -> str:
    return f'<input type="hidden" name="csrf" value="{_e(csrf)}">'


def _post_button(action: str, csrf: str, label: str, *, cls: str = "", extra: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<form method="post" action="{_e(action)}" class="inline">{_hidden(csrf)}{extra}'
        f'<button type="submit"{klass}>{_e(label)}</button></form>'
    )


def _page(
    title: str, body: str, person: Agent, csrf: str, *, site: Site | None = None,
    active: str = "", extra_head: str = "",
) -> str:  # fmt: skip
    nav = [
        '<a href="/console"' + (' aria-current="page"' if active == "sites" else "") + ">Sites</a>"
    ]
    if site is not None:
        base = f"/console/s/{_q(site.public_key)}"
        for name, label in (("rules", "Rules"), ("performance", "Performance"), ("usage", "Usage")):
            current = ' aria-current="page"' if active == name else ""
            nav.append(f'<a href="{base}/{name}"{current}>{label}</a>')
    nav.append('<a href="/inbox">Inbox</a>')
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} · BPract console</title>"
        '<link rel="stylesheet" href="/console/static/console.css">'
        f"{extra_head}"
        '<script src="/console/static/console.js" defer></script></head><body>'
        '<header><a class="brand" href="/console">BPract console</a>'
        f'<nav aria-label="Console">{"".join(nav)}</nav>'
        f'<div class="who"><span>{_e(person.display_name)}</span>'
        f'<span class="badge">{_e(_ACCESS.get(person.access, person.access))}</span>'
        f'<form method="post" action="/inbox/sign-out">{_hidden(csrf)}'
        '<button type="submit" class="link">Sign out</button></form></div></header>'
        f"<main>{body}</main></body></html>"
    )


def plain_page(title: str, body: str, person: Agent, csrf: str, *, site: Site, active: str) -> str:
    """A page of one site around its content."""
    return _page(title, body, person, csrf, site=site, active=active)


def usage_page(person: Agent, csrf: str, site: Site, body: str, *, can_edit: bool) -> str:
    """The usage page around its content, with the budget form for those who may set one."""
    form = ""
    if can_edit:
        form = (
            '<section class="card"><h2>Set a budget</h2>'
            f'<form method="post" action="/console/s/{_q(site.public_key)}/usage/budgets"'
            f' class="row">{_hidden(csrf)}'
            '<div class="field"><label for="b-dep">Department</label>'
            '<input id="b-dep" name="department" type="text" placeholder="empty: whole site">'
            '</div><div class="field"><label for="b-period">Period</label>'
            '<select id="b-period" name="period"><option value="day">day</option>'
            '<option value="month">month</option></select></div>'
            '<div class="field"><label for="b-soft">Alert at ($)</label>'
            '<input id="b-soft" name="soft_usd" type="number" min="0" step="0.01"></div>'
            '<div class="field"><label for="b-hard">Hard limit ($)</label>'
            '<input id="b-hard" name="hard_usd" type="number" min="0" step="0.01"></div>'
            '<div class="field"><button type="submit">Save budget</button></div></form></section>'
        )
    head = (
        '<link rel="stylesheet" href="/console/vendor/uPlot.min.css">'
        '<script src="/console/vendor/uPlot.iife.min.js" defer></script>'
    )
    return _page(f"Usage · {site.name}", body + form, person, csrf, site=site, active="usage",
                 extra_head=head)  # fmt: skip


def message_page(title: str, text: str, person: Agent, csrf: str, back: str = "/console") -> str:
    body = (
        f'<section class="card narrow"><h1>{_e(title)}</h1><p>{_e(text)}</p>'
        f'<p><a href="{_e(back)}">Back</a></p></section>'
    )
    return _page(title, body, person, csrf)


def sites_page(person: Agent, csrf: str, sites: Sequence[Site]) -> str:
    """The organisation's sites, each with a way to its rules."""
    if not sites:
        listed = '<p class="empty">No site yet. Add one with <code>bpract sites add</code>.</p>'
    else:
        rows = "".join(
            f'<tr><th scope="row">{_e(s.name)}</th><td><code>{_e(s.public_key)}</code></td>'
            f"<td>{_e(', '.join(s.allowed_origins))}</td>"
            f'<td><a href="/console/s/{_q(s.public_key)}/rules">Rules</a></td></tr>'
            for s in sites
        )
        listed = (
            '<table><thead><tr><th scope="col">Site</th><th scope="col">Public key</th>'
            f'<th scope="col">Allowed origins</th><th scope="col"></th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
    body = f'<section class="card"><h1>Sites</h1>{listed}</section>'
    return _page("Sites", body, person, csrf, active="sites")


@dataclass(frozen=True, slots=True)
class RuleRow:
    """A rule as the list shows it."""

    id: str
    name: str
    department: str
    enabled: bool
    fires: int
    sent: int
    held_out: int


def _notice(text: str | None) -> str:
    return f'<p class="notice" role="status">{_e(text)}</p>' if text else ""


def rules_page(
    person: Agent, csrf: str, site: Site, rules: Sequence[RuleRow], *, version: int,
    can_edit: bool, notice: str | None = None,
) -> str:  # fmt: skip
    """The site's rules with their state and the last 7 days' fires."""
    base = f"/console/s/{_q(site.public_key)}/rules"
    rows = []
    for r in rules:
        state = (
            '<span class="state on">Live</span>'
            if r.enabled
            else '<span class="state off">Off</span>'
        )
        toggle = ""
        if can_edit:
            label = "Turn off" if r.enabled else "Turn on"
            wanted = "" if r.enabled else "on"
            extra = f'<input type="hidden" name="on" value="{wanted}">'
            toggle = _post_button(
                f"{base}/{_q(r.id)}/enabled", csrf, label, cls="small", extra=extra
            )
        rows.append(
            f'<tr data-rule="{_e(r.id)}"><th scope="row"><a href="{base}/{_q(r.id)}">{_e(r.id)}</a>'
            f'<div class="meta">{_e(r.name)}</div></th><td>{_e(r.department)}</td><td>{state}</td>'
            f'<td class="num">{r.fires}</td><td class="num">{r.sent}</td>'
            f'<td class="num">{r.held_out}</td>'
            f'<td class="actions"><a href="{base}/{_q(r.id)}/history">History</a>{toggle}</td></tr>'
        )
    table = (
        '<table class="rules"><thead><tr><th scope="col">Rule</th><th scope="col">Department</th>'
        '<th scope="col">State</th><th scope="col" class="num">Fires, 7 days</th>'
        '<th scope="col" class="num">Sent</th><th scope="col" class="num">Held out</th>'
        f'<th scope="col"></th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        if rules
        else '<p class="empty">No rule yet.</p>'
    )
    new = f'<a class="button" href="{base}/new">New rule</a>' if can_edit else ""
    body = (
        f'<section class="card"><div class="title"><h1>Rules · {_e(site.name)}</h1>{new}</div>'
        f'{_notice(notice)}<p class="meta">Ruleset version {version}. A saved change reaches'
        f" visitors already on the site at once.</p>{table}</section>"
    )
    return _page(f"Rules · {site.name}", body, person, csrf, site=site, active="rules")


_LABELS: Final = {
    "id": ("Rule id", "Lower-case letters, digits and dashes; it cannot change once saved."),
    "name": ("Name", ""),
    "department": ("Department", "Budgets and reports group by it."),
    "priority": ("Priority", "Higher wins when several rules match at once."),
    "when": (
        "When (all must hold)",
        'YAML, e.g. page: ["/pricing*"] and attentive_seconds: 30.'
        " See the conditions in docs/rules.md.",
    ),
    "goal": ("Goal", "What the assistant should achieve; the model reads it, visitors do not."),
    "message_text": ("Message", "What the visitor sees (and the offline fallback)."),
    "cta_label": ("Button label", ""),
    "cta_url": ("Button link", "A site path such as /pricing, or an http(s) URL."),
    "offers": ("Offers", "Comma-separated: the only offers the model may make."),
    "cap_count": ("Cap: at most", "Messages from this rule per visitor…"),
    "cap_days": ("Cap period (days)", "…in this many days."),
    "cooldown": ("Cooldown", "After a message from this rule: 30s, 15m, 1h, 2d."),
    "holdout": ("Holdout (%)", "Visitors who never see it, to measure its lift."),
    "schedule": ("Schedule", "YAML: days, start, end, tz. Empty: always."),
    "on_decider_failure": ("If the model fails", ""),
}


def _errors(form: RuleForm, name: str) -> tuple[str, str]:
    """The error text under a field and the attributes tying the field to it."""
    found = form.errors.get(name)
    if not found:
        return "", ""
    text = "".join(f"<span>{_e(m)}</span>" for m in found)
    return (
        f'<p class="field-error" id="err-{name}">{text}</p>',
        f' aria-invalid="true" aria-describedby="err-{name}"',
    )


def _field(form: RuleForm, name: str, *, kind: str = "text", rows: int = 0,
           readonly: bool = False) -> str:  # fmt: skip
    label, hint = _LABELS[name]
    error, attrs = _errors(form, name)
    hint_html = f'<p class="hint">{_e(hint)}</p>' if hint else ""
    value = form.value(name)
    if readonly:
        attrs += " readonly"
    if rows:
        control = (
            f'<textarea id="f-{name}" name="{name}" rows="{rows}"{attrs}>{_e(value)}</textarea>'
        )
    elif name == "on_decider_failure":
        options = "".join(
            f'<option value="{o}"{" selected" if value == o else ""}>{t}</option>'
            for o, t in (("fallback", "send the message above"), ("skip", "send nothing"))
        )
        control = f'<select id="f-{name}" name="{name}"{attrs}>{options}</select>'
    else:
        control = f'<input id="f-{name}" name="{name}" type="{kind}" value="{_e(value)}"{attrs}>'
    return (
        f'<div class="field" data-field="{name}"><label for="f-{name}">{_e(label)}</label>'
        f"{control}{error}{hint_html}</div>"
    )


def _preview(form: RuleForm) -> str:
    """The message as the widget shows it: a bubble with its button (text only, escaped)."""
    label, url = form.value("cta_label"), form.value("cta_url")
    cta = f'<br><a id="pv-cta" href="#"{"" if label else " hidden"}>{_e(label or url)}</a>'
    return (
        '<aside class="card preview" aria-labelledby="pv-h"><h2 id="pv-h">Preview</h2>'
        '<p class="meta">As a visitor sees it in the chat.</p>'
        '<div class="widget"><div class="w-head">Chat with us</div>'
        '<div class="w-log"><div class="m" id="pv-m">'
        f'<span id="pv-text">{_e(form.value("message_text"))}</span>'
        f"{cta}</div></div></div></aside>"
    )


def edit_page(
    person: Agent, csrf: str, site: Site, form: RuleForm, *, is_new: bool, can_edit: bool,
    notice: str | None = None, backtest: str = "", days: int = 14,
) -> str:  # fmt: skip
    """A rule's form: every field with its errors beside it, the message's preview, and the
    result of a backtest when one was asked for (``backtest``: its HTML)."""
    base = f"/console/s/{_q(site.public_key)}/rules"
    action = f"{base}/new" if is_new else f"{base}/{_q(form.value('id'))}"
    enabled = form.value("enabled") == "on"
    problems = sum(len(v) for v in form.errors.values())
    summary = (
        f'<p class="notice" role="alert">{problems} problem{"s" if problems != 1 else ""} to fix'
        " before this rule can be saved; each is shown at its field.</p>"
        if problems
        else _notice(notice)
    )
    fields = "".join(
        [
            _field(form, "id", readonly=not is_new),
            _field(form, "name"),
            '<div class="row">', _field(form, "department"),
            _field(form, "priority", kind="number"), "</div>",
            _field(form, "when", rows=5),
            _field(form, "message_text", rows=3),
            '<div class="row">', _field(form, "cta_label"), _field(form, "cta_url"), "</div>",
            _field(form, "goal", rows=2),
            _field(form, "offers"),
            '<div class="row">', _field(form, "cap_count", kind="number"),
            _field(form, "cap_days", kind="number"), _field(form, "cooldown"),
            _field(form, "holdout", kind="number"), "</div>",
            _field(form, "schedule", rows=4),
            _field(form, "on_decider_failure"),
            '<div class="field check"><label><input type="checkbox" name="enabled"'
            f'{" checked" if enabled else ""}> Live: visitors can get it</label></div>',
        ]
    )  # fmt: skip
    buttons = (
        '<div class="buttons"><button type="submit" name="do" value="check" class="secondary">'
        'Check</button><button type="submit" name="do" value="backtest" class="secondary">'
        'Backtest</button><label class="inline-label" for="f-days">over the last</label>'
        f'<input id="f-days" name="days" type="number" min="1" max="90" value="{days}"'
        ' class="days"> days'
        '<button type="submit" name="do" value="save">Save</button></div>'
        if can_edit
        else '<p class="meta">You can read this rule; an owner or a marketer can change it.</p>'
    )
    history = "" if is_new else f' · <a href="{base}/{_q(form.value("id"))}/history">History</a>'
    title = "New rule" if is_new else f"Rule {form.value('id')}"
    body = (
        f'<p class="crumbs"><a href="{base}">Rules</a>{history}</p>'
        f'<div class="split"><section class="card"><h1>{_e(title)}</h1>{summary}'
        f'<form method="post" action="{_e(action)}" id="rule-form" novalidate>{_hidden(csrf)}'
        f'{fields}{buttons}</form></section><div class="side">{_preview(form)}{backtest}</div>'
        "</div>"
    )
    return _page(title, body, person, csrf, site=site, active="rules")


@dataclass(frozen=True, slots=True)
class VersionEntry:
    """A ruleset version that changed the rule: who, when, and the rule's YAML after it."""

    version: int
    author: str
    created_at: str
    text: str | None
    """The rule's YAML in that version; None when the version removed it."""
    before: str | None


def _diff(before: str | None, after: str | None) -> str:
    lines = difflib.unified_diff(
        (before or "").splitlines(), (after or "").splitlines(), "before", "after", lineterm="", n=2
    )
    out = []
    for line in list(lines)[2:]:
        cls = "add" if line.startswith("+") else "del" if line.startswith("-") else "ctx"
        out.append(f'<span class="{cls}">{_e(line)}</span>')
    return f'<pre class="diff">{"".join(out)}</pre>'


def history_page(
    person: Agent, csrf: str, site: Site, rule_id: str, entries: Sequence[VersionEntry], *,
    current: int, can_edit: bool, notice: str | None = None,
) -> str:  # fmt: skip
    """Every version that changed the rule, newest first, each with its diff and a restore."""
    base = f"/console/s/{_q(site.public_key)}/rules/{_q(rule_id)}"
    items = []
    for n, entry in enumerate(entries):
        restore = ""
        if can_edit and n > 0:
            restore = _post_button(
                f"{base}/restore", csrf, f"Restore version {entry.version}", cls="small",
                extra=f'<input type="hidden" name="version" value="{entry.version}">',
            )  # fmt: skip
        what = "removed" if entry.text is None else "added" if entry.before is None else "changed"
        tag = ' <span class="badge">current</span>' if n == 0 else ""
        items.append(
            f'<li class="version" data-version="{entry.version}"><div class="line">'
            f"<strong>Version {entry.version}</strong>{tag}"
            f'<span class="meta">{_e(what)} by {_e(entry.author or "unknown")},'
            f" {_e(entry.created_at)}</span>{restore}</div>{_diff(entry.before, entry.text)}</li>"
        )
    listed = (
        f'<ol class="versions">{"".join(items)}</ol>'
        if items
        else '<p class="empty">No version.</p>'
    )
    body = (
        f'<p class="crumbs"><a href="/console/s/{_q(site.public_key)}/rules">Rules</a> · '
        f'<a href="{base}">Edit</a></p><section class="card"><h1>History of {_e(rule_id)}</h1>'
        f'{_notice(notice)}<p class="meta">Ruleset version {current} is live. Restoring makes a'
        f" new version with the rule as it was.</p>{listed}</section>"
    )
    return _page(f"History · {rule_id}", body, person, csrf, site=site, active="rules")
