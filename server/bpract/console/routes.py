"""The console's pages under ``/console``: the organisation's sites, and each site's rules —
list, create, edit (validated at the field), turn on and off, history with diffs, restore.

People sign in through the inbox's sign-in (one session for both).  Every page is
scoped to the person's organisation: another organisation's site answers 404, as one that
does not exist.  Reading needs any access; changing a rule needs ``owner`` or
``marketer`` (an agent's post is refused 403).  Every form carries the session's CSRF
token; a post without it is refused 403 before anything is read from it.
"""

from __future__ import annotations

from decimal import Decimal
from importlib.resources import files
from typing import Any, Final, NamedTuple
from urllib.parse import quote

import apsw
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from bpract.assets.routes import AssetResponse, serve_file
from bpract.clock import now_ms
from bpract.console import pages
from bpract.console.backtest_view import backtest_panel
from bpract.console.performance import DAYS as PERF_DAYS
from bpract.console.performance import MDES, performance_body
from bpract.console.rule_form import FIELDS, RuleForm, field_of, form_of_rule, rule_data, rule_yaml
from bpract.console.usage import PERIODS, read_usage, usage_body
from bpract.headers import PagePolicy, page_policy
from bpract.inbox import Agent, InboxAuth
from bpract.inbox.auth import SESSION_COOKIE
from bpract.inbox.csrf import Purpose
from bpract.inbox.routes import signed_in, to_sign_in
from bpract.llm.budget import Budgets, Limit, Period
from bpract.settings import Settings
from bpract.sites.store import Site, list_sites
from bpract.store import Database
from bpract.triggers import RulesetInvalidError, TriggersError, TriggerService, edits
from bpract.triggers.backtest import backtest
from bpract.triggers.spec import validate_rule

__all__ = ["CONSOLE_PAGE", "route_handlers"]

AnyRequest = Request[Any, Any, Any]

CONSOLE_PAGE: Final = PagePolicy(script_src=("'self'",), connect_src=("'self'",))
_PATH: Final = "/console"
_FORM_BYTES: Final = 64 * 1024
_NO_STORE: Final = {"cache-control": "no-store"}
_EDITORS: Final = frozenset({"owner", "marketer"})
_VENDOR_CACHE: Final = "public, max-age=3600"
_PERIODS: Final[dict[str, Period]] = {"day": "day", "month": "month"}
_CSS: Final = files("bpract.console").joinpath("static/console.css").read_bytes()
_JS: Final = files("bpract.console").joinpath("static/console.js").read_bytes()
_REFUSED: Final = (
    "This form has expired or did not come from the console. Reload the page and try again."
)
_NOTICES: Final = {
    "saved": "Saved. Visitors on the site have the new version now.",
    "on": "The rule is live.",
    "off": "The rule is off: no visitor gets it.",
    "restored": "Restored as a new version.",
    "budget": "Budget saved; it holds from the next model call.",
}


def _html(text: str, status: int = 200) -> Response[str]:
    return Response(text, status_code=status, media_type="text/html", headers=_NO_STORE)


@get("/static/console.css", include_in_schema=False)
async def stylesheet() -> Response[bytes]:
    return Response(_CSS, media_type="text/css", headers={"cache-control": "public, max-age=300"})


@get("/static/console.js", include_in_schema=False)
async def script() -> Response[bytes]:
    return Response(
        _JS, media_type="text/javascript", headers={"cache-control": "public, max-age=300"}
    )


async def _person(request: AnyRequest, inbox: InboxAuth) -> tuple[Agent, str] | Redirect:
    found = await signed_in(request, inbox)
    return found if found is not None else to_sign_in(request, request.url.path)


async def _site(db: Database, person: Agent, key: str) -> Site | None:
    """The site with public key ``key`` if it is the person's organisation's."""

    def read(conn: apsw.Connection) -> Site | None:
        return next(
            (s for s in list_sites(conn, org_id=person.org_id) if s.public_key == key), None
        )

    return await db.run(read)


def _not_found(person: Agent, csrf: str) -> Response[str]:
    text = "There is no such page in your organisation."
    return _html(pages.message_page("Not found", text, person, csrf), 404)


async def _posted(
    request: AnyRequest, inbox: InboxAuth, *, editing: bool = True
) -> tuple[Agent, str, dict[str, str]] | Response[str] | Redirect:
    """The person of a form post, its token and its fields; or the answer refusing it."""
    session = request.cookies.get(SESSION_COOKIE)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not await inbox.valid_form(Purpose.SESSION, session, form.get("csrf")):
        return _html(f"<!DOCTYPE html><title>Refused</title><p>{_REFUSED}</p>", 403)
    person = await inbox.agent(session)
    if person is None:
        return to_sign_in(request)
    csrf = form["csrf"]
    if editing and person.access not in _EDITORS:
        text = "Only an owner or a marketer can change rules."
        return _html(pages.message_page("Refused", text, person, csrf), 403)
    return person, csrf, form


class Viewing(NamedTuple):
    """Who is looking at a page of one of their organisation's sites."""

    person: Agent
    csrf: str
    site: Site


class Acting(NamedTuple):
    """Who posted a form about one of their organisation's sites, and its fields."""

    person: Agent
    csrf: str
    site: Site
    form: dict[str, str]


async def _viewing(
    request: AnyRequest, inbox: InboxAuth, db: Database, site_key: str
) -> Viewing | Response[str] | Redirect:
    """The signed-in person and the site ``site_key`` of their organisation; or the answer:
    the way to sign in, or 404 for a site that is not theirs."""
    found = await _person(request, inbox)
    if isinstance(found, Redirect):
        return found
    person, csrf = found
    site = await _site(db, person, site_key)
    return _not_found(person, csrf) if site is None else Viewing(person, csrf, site)


async def _acting(
    request: AnyRequest, inbox: InboxAuth, db: Database, site_key: str, *, editing: bool = True
) -> Acting | Response[str] | Redirect:
    """A form post's person, token, site (of their organisation) and fields; or the refusal."""
    posted = await _posted(request, inbox, editing=editing)
    if not isinstance(posted, tuple):
        return posted
    person, csrf, form = posted
    site = await _site(db, person, site_key)
    return _not_found(person, csrf) if site is None else Acting(person, csrf, site, form)


def _rules_url(site: Site, rule_id: str = "", notice: str = "") -> str:
    path = f"{_PATH}/s/{quote(site.public_key, safe='')}/rules"
    if rule_id:
        path += f"/{quote(rule_id, safe='')}"
    return path + (f"?n={notice}" if notice else "")


@get("/", include_in_schema=False)
async def sites(
    request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database]
) -> Response[str] | Redirect:
    """The organisation's sites."""
    found = await _person(request, inbox)
    if isinstance(found, Redirect):
        return found
    person, csrf = found
    listed = await db.run(lambda conn: list_sites(conn, org_id=person.org_id))
    return _html(pages.sites_page(person, csrf, listed))


async def _rule_rows(triggers: TriggerService, site_id: int) -> tuple[int, list[pages.RuleRow]]:
    body = await triggers.ruleset_json(site_id)
    reports = {r.rule: r for r in await triggers.report(site_id, 7)}
    rows = []
    for rule in body["rules"]:
        report = reports.get(rule["id"])
        rows.append(
            pages.RuleRow(
                id=rule["id"], name=rule.get("name", ""), department=rule.get("department", ""),
                enabled=bool(rule.get("enabled", True)),
                fires=sum(report.fires.values()) if report else 0,
                sent=report.sent if report else 0, held_out=report.held_out if report else 0,
            )
        )  # fmt: skip
    return int(body["version"]), rows


@get("/s/{site_key:str}/rules", include_in_schema=False)
async def rules(
    *, request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    triggers: NamedDependency[TriggerService], site_key: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    """The site's rules, their state and the last 7 days' fires."""
    viewing = await _viewing(request, inbox, db, site_key)
    if not isinstance(viewing, Viewing):
        return viewing
    person, csrf, site = viewing
    version, rows = await _rule_rows(triggers, site.id)
    notice = _NOTICES.get(request.query_params.get("n", ""))
    page = pages.rules_page(
        person, csrf, site, rows, version=version, can_edit=person.access in _EDITORS,
        notice=notice,
    )  # fmt: skip
    return _html(page)


_BLANK: Final = {
    "department": "default", "priority": "0", "enabled": "on", "cap_count": "1", "cap_days": "1",
    "holdout": "10", "on_decider_failure": "fallback",
}  # fmt: skip


async def _current_rule(
    triggers: TriggerService, site_id: int, rule_id: str
) -> dict[str, Any] | None:
    body = await triggers.ruleset_json(site_id)
    return next((r for r in body["rules"] if r["id"] == rule_id), None)


@get("/s/{site_key:str}/rules/new", include_in_schema=False)
async def new_rule(
    request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    site_key: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    viewing = await _viewing(request, inbox, db, site_key)
    if not isinstance(viewing, Viewing):
        return viewing
    person, csrf, site = viewing
    form = RuleForm(values=_BLANK, errors={})
    can_edit = person.access in _EDITORS
    return _html(pages.edit_page(person, csrf, site, form, is_new=True, can_edit=can_edit))


@get("/s/{site_key:str}/rules/{rule_id:str}", include_in_schema=False)
async def edit_rule(
    *, request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    triggers: NamedDependency[TriggerService], site_key: FromPath[str], rule_id: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    viewing = await _viewing(request, inbox, db, site_key)
    if not isinstance(viewing, Viewing):
        return viewing
    person, csrf, site = viewing
    rule = await _current_rule(triggers, site.id, rule_id)
    if rule is None:
        return _not_found(person, csrf)
    form = RuleForm(values=form_of_rule(rule), errors={})
    notice = _NOTICES.get(request.query_params.get("n", ""))
    page = pages.edit_page(
        person, csrf, site, form, is_new=False, can_edit=person.access in _EDITORS, notice=notice
    )
    return _html(page)


def _checked(values: dict[str, str]) -> tuple[Any, RuleForm]:
    """The rule the form describes (None if it has problems) and the form with its errors."""
    data, errors = rule_data(values)
    rule = None
    try:
        rule = validate_rule(data)
    except RulesetInvalidError as exc:
        for error in exc.errors:
            errors.setdefault(field_of(error), []).append(error.message)
    return (None if errors else rule), RuleForm(values=values, errors=errors)


async def _save(
    *,
    request: AnyRequest, inbox: InboxAuth, db: Database, triggers: TriggerService,
    site_key: str, rule_id: str | None,
) -> Response[str] | Redirect:  # fmt: skip
    acting = await _acting(request, inbox, db, site_key)
    if not isinstance(acting, Acting):
        return acting
    person, csrf, site, form = acting
    values = {k: form.get(k, "") for k in FIELDS}
    if rule_id is not None:
        if await _current_rule(triggers, site.id, rule_id) is None:
            return _not_found(person, csrf)
        values["id"] = rule_id  # a rule keeps its id
    rule, checked = _checked(values)
    is_new = rule_id is None
    if rule is None or form.get("do") != "save":
        notice = "No problem found: this rule can be saved." if rule is not None else None
        days = _days(form.get("days", ""))
        result = ""
        if rule is not None and form.get("do") == "backtest":
            found = await backtest(
                db,
                site.id,
                rule,
                days=days,
                now_ms=now_ms(),
                ruleset=await triggers.ruleset(site.id),
            )
            result = backtest_panel(found, days)
        page = pages.edit_page(person, csrf, site, checked, is_new=is_new, can_edit=True,
                               notice=notice, backtest=result, days=days)  # fmt: skip
        return _html(page, 200 if rule is not None else 422)
    edit = edits.add_rule(rule) if is_new else edits.replace_rule(rule)
    source = rule_yaml(_compiled(rule))
    try:
        await triggers.edit_ruleset(site.id, edit, source=source, author=person.display_name)
    except TriggersError as exc:
        errors = {"id": [exc.detail]}
        page = pages.edit_page(person, csrf, site, RuleForm(values=values, errors=errors),
                               is_new=is_new, can_edit=True)  # fmt: skip
        return _html(page, 409)
    return Redirect(_rules_url(site, notice="saved"), status_code=303)


def _days(text: str) -> int:
    """The backtest's period: a whole number of days, 1 to 90 (14 when not one)."""
    return int(text) if text.isdigit() and 1 <= int(text) <= 90 else 14


def _compiled(rule: Any) -> dict[str, Any]:
    import msgspec

    out: dict[str, Any] = msgspec.to_builtins(rule)
    return out


@post("/s/{site_key:str}/rules/new", include_in_schema=False, request_max_body_size=_FORM_BYTES)
async def create_rule(
    *, request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    triggers: NamedDependency[TriggerService], site_key: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    """Check (``do=check``) or save a new rule: a new ruleset version."""
    return await _save(
        request=request, inbox=inbox, db=db, triggers=triggers, site_key=site_key, rule_id=None
    )


@post("/s/{site_key:str}/rules/{rule_id:str}", include_in_schema=False,
      request_max_body_size=_FORM_BYTES)  # fmt: skip
async def update_rule(
    *, request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    triggers: NamedDependency[TriggerService], site_key: FromPath[str], rule_id: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    """Check or save a change to a rule: a new ruleset version."""
    return await _save(
        request=request, inbox=inbox, db=db, triggers=triggers, site_key=site_key, rule_id=rule_id
    )


@post("/s/{site_key:str}/rules/{rule_id:str}/enabled", include_in_schema=False,
      request_max_body_size=_FORM_BYTES)  # fmt: skip
async def set_enabled(
    *, request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    triggers: NamedDependency[TriggerService], site_key: FromPath[str], rule_id: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    """Turn a rule on (``on=on``) or off: a new ruleset version."""
    acting = await _acting(request, inbox, db, site_key)
    if not isinstance(acting, Acting):
        return acting
    person, csrf, site, form = acting
    current = await _current_rule(triggers, site.id, rule_id)
    if current is None:
        return _not_found(person, csrf)
    on = form.get("on") == "on"
    rule = validate_rule({**rule_data(form_of_rule(current))[0], "enabled": on})
    source = f"{'enable' if on else 'disable'} {rule_id}"
    await triggers.edit_ruleset(site.id, edits.replace_rule(rule), source=source,
                                author=person.display_name)  # fmt: skip
    return Redirect(_rules_url(site, notice="on" if on else "off"), status_code=303)


async def _history(
    triggers: TriggerService, site_id: int, rule_id: str
) -> list[pages.VersionEntry]:
    """The versions that changed the rule, newest first."""
    versions = sorted(await triggers.versions(site_id), key=lambda v: v.version)
    entries: list[pages.VersionEntry] = []
    previous: str | None = None
    for stored in versions:
        rule = next((r for r in stored.body["rules"] if r["id"] == rule_id), None)
        text = None if rule is None else rule_yaml(rule)
        if text != previous:
            entries.append(
                pages.VersionEntry(
                    version=stored.version, author=stored.author, created_at=stored.created_at,
                    text=text, before=previous,
                )
            )  # fmt: skip
        previous = text
    return entries[::-1]


@get("/s/{site_key:str}/rules/{rule_id:str}/history", include_in_schema=False)
async def history(
    *, request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    triggers: NamedDependency[TriggerService], site_key: FromPath[str], rule_id: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    """Every version that changed the rule, with its diff and a way to restore it."""
    viewing = await _viewing(request, inbox, db, site_key)
    if not isinstance(viewing, Viewing):
        return viewing
    person, csrf, site = viewing
    entries = await _history(triggers, site.id, rule_id)
    if not entries:
        return _not_found(person, csrf)
    body = await triggers.ruleset_json(site.id)
    notice = _NOTICES.get(request.query_params.get("n", ""))
    page = pages.history_page(
        person, csrf, site, rule_id, entries, current=int(body["version"]),
        can_edit=person.access in _EDITORS, notice=notice,
    )  # fmt: skip
    return _html(page)


@post("/s/{site_key:str}/rules/{rule_id:str}/restore", include_in_schema=False,
      request_max_body_size=_FORM_BYTES)  # fmt: skip
async def restore(
    *, request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    triggers: NamedDependency[TriggerService], site_key: FromPath[str], rule_id: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    """The rule as it was in ``version``, saved as a new version (removed, if it was absent)."""
    acting = await _acting(request, inbox, db, site_key)
    if not isinstance(acting, Acting):
        return acting
    person, csrf, site, form = acting
    version = form.get("version", "")
    stored = await triggers.stored(site.id, int(version)) if version.isdigit() else None
    if stored is None:
        return _not_found(person, csrf)
    old = next((r for r in stored.body["rules"] if r["id"] == rule_id), None)
    current = await _current_rule(triggers, site.id, rule_id)
    if old is None and current is None:
        return Redirect(_rules_url(site, rule_id) + "/history?n=restored", status_code=303)
    edit = edits.remove_rule(rule_id) if old is None else edits.put_rule(validate_rule(
        rule_data(form_of_rule(old))[0]))  # fmt: skip
    source = f"restore {rule_id} from version {stored.version}"
    await triggers.edit_ruleset(site.id, edit, source=source, author=person.display_name)
    return Redirect(_rules_url(site, rule_id) + "/history?n=restored", status_code=303)


@get("/vendor/{name:str}", include_in_schema=False)
async def vendor(
    request: AnyRequest, settings: NamedDependency[Settings], name: FromPath[str]
) -> AssetResponse:
    """The charting library, built into the widget's folder by ``./dev build``."""
    response = serve_file(request, settings.server.widget_dist / "console", name, _VENDOR_CACHE)
    for header in ("access-control-allow-origin", "cross-origin-resource-policy"):
        response.headers.pop(header, None)  # the console's alone, not for other sites
    return response


@get("/s/{site_key:str}/performance", include_in_schema=False)
async def performance(
    *, request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    triggers: NamedDependency[TriggerService], site_key: FromPath[str], days: FromQuery[int] = 30,
    mde: FromQuery[int] = 10,
) -> Response[str] | Redirect:  # fmt: skip
    """Each rule's fires, engagement, conversions against its holdout and lift."""
    viewing = await _viewing(request, inbox, db, site_key)
    if not isinstance(viewing, Viewing):
        return viewing
    person, csrf, site = viewing
    days = days if days in PERF_DAYS else 30
    mde = mde if mde in MDES else 10
    reports = await triggers.report(site.id, days, mde=mde / 100)
    body = performance_body(reports, request.url.path, days, mde)
    title = f"Performance · {site.name}"
    return _html(pages.plain_page(title, body, person, csrf, site=site, active="performance"))


@get("/s/{site_key:str}/usage", include_in_schema=False)
async def usage(
    *, request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    site_key: FromPath[str], days: FromQuery[int] = 14,
) -> Response[str] | Redirect:  # fmt: skip
    """What the models cost the site per day by department, model and task; its budgets."""
    viewing = await _viewing(request, inbox, db, site_key)
    if not isinstance(viewing, Viewing):
        return viewing
    person, csrf, site = viewing
    period = days if days in PERIODS else 14
    figures = await read_usage(db, site.id, period)
    body = usage_body(figures, request.url.path)
    notice = _NOTICES.get(request.query_params.get("n", ""))
    if notice:
        body = f'<p class="notice" role="status">{notice}</p>' + body
    can_edit = person.access == "owner"
    return _html(pages.usage_page(person, csrf, site, body, can_edit=can_edit))


def _nano(text: str) -> int | None:
    """Dollars typed in a form as nano-dollars (None when empty); ValueError if not a number."""
    if not text.strip():
        return None
    value = Decimal(text.strip())
    if not value.is_finite() or value < 0 or value > 1_000_000:
        raise ValueError(text)
    return int(value * 1_000_000_000)


@post("/s/{site_key:str}/usage/budgets", include_in_schema=False,
      request_max_body_size=_FORM_BYTES)  # fmt: skip
async def set_budget(
    *, request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    site_key: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    """Set a department's (or the site's) day or month budget: owners only."""
    acting = await _acting(request, inbox, db, site_key, editing=False)
    if not isinstance(acting, Acting):
        return acting
    person, csrf, site, form = acting
    back = f"{_PATH}/s/{quote(site.public_key, safe='')}/usage"
    if person.access != "owner":
        text = "Only an owner can set budgets."
        return _html(pages.message_page("Refused", text, person, csrf, back), 403)
    period = form.get("period", "")
    department = form.get("department", "").strip()
    try:
        soft, hard = _nano(form.get("soft_usd", "")), _nano(form.get("hard_usd", ""))
    except (ValueError, ArithmeticError):
        soft = hard = -1
    if period not in _PERIODS or len(department) > 64 or -1 in (soft, hard):
        text = "A budget is a day or a month, and amounts in dollars (0 or more)."
        return _html(pages.message_page("Not saved", text, person, csrf, back), 422)
    limit = Limit(period=_PERIODS[period], department=department, soft_nano=soft, hard_nano=hard)
    await Budgets(db).set_limit(site.id, limit)
    return Redirect(back + "?n=budget", status_code=303)


#: Every page under ``/console``, under the console's Content-Security-Policy.
route_handlers = [
    Router(
        _PATH,
        route_handlers=[
            stylesheet, script, sites, rules, new_rule, edit_rule, create_rule, update_rule,
            set_enabled, history, restore, vendor, usage, set_budget, performance,
        ],
        opt=page_policy(CONSOLE_PAGE),
        include_in_schema=False,
    )
]  # fmt: skip
