"""Admin REST API for trigger rules: ``/api/sites/{site_key}/rules`` (site_key: the public key).

Bodies are YAML or JSON text, validated like a rules file; invalid input is
answered 400 with every ``{path, message}`` found.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, RawBody

from bpract.sites.api import admin_dependencies
from bpract.sites.auth import RULES_WRITE, SITE_READ, Principal, admin_guard, requires
from bpract.triggers import edits
from bpract.triggers.errors import (
    DuplicateRuleError,
    FieldError,
    RulesetInvalidError,
    TriggersError,
    UnknownRuleError,
    UnknownSiteError,
)
from bpract.triggers.schemas import (
    ErrorOut,
    ReportOut,
    RuleOut,
    RulesetOut,
    ValidationOut,
    VersionOut,
)
from bpract.triggers.service import TriggerService
from bpract.triggers.spec import load_ruleset, parse_source, validate_rule
from bpract_client.rules import Rule

__all__ = ["RulesController", "route_handlers"]

AnyRequest = Request[Any, Any, Any]

_STATUS = {
    RulesetInvalidError: 400,
    UnknownSiteError: 404,
    UnknownRuleError: 404,
    DuplicateRuleError: 409,
}


def _error_response(_: AnyRequest, exc: Exception) -> Response[ErrorOut]:
    assert isinstance(exc, TriggersError)
    status = _STATUS.get(type(exc), 400)
    errors = exc.errors if isinstance(exc, RulesetInvalidError) else []
    return Response(
        ErrorOut(status_code=status, detail=exc.detail, errors=errors), status_code=status
    )


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        error = FieldError(path="$", message="the body is not UTF-8 text")
        raise RulesetInvalidError([error]) from exc


def _rule_body(body: bytes, rule_id: str | None = None) -> tuple[Rule, str]:
    """Parse a one-rule body; on replace the id comes from the URL (and must agree)."""
    source = _text(body)
    data = parse_source(source)
    if isinstance(data, dict) and rule_id and data.setdefault("id", rule_id) != rule_id:
        message = f"the id in the body ({data['id']!r}) differs from the URL ({rule_id!r})"
        raise RulesetInvalidError([FieldError(path="rule.id", message=message)])
    return validate_rule(data), source


async def _rule_out(service: TriggerService, site_id: int, rule_id: str) -> RuleOut:
    body = await service.ruleset_json(site_id)
    for rule in body["rules"]:
        if rule["id"] == rule_id:
            return RuleOut(version=body["version"], rule=rule)
    raise UnknownRuleError(rule_id, f"no rule {rule_id!r}")


async def _ruleset_out(service: TriggerService, site_key: str, site_id: int) -> RulesetOut:
    body = await service.ruleset_json(site_id)
    stored = await service.stored(site_id, body["version"])
    return RulesetOut(
        site=site_key,
        version=body["version"],
        author=stored.author if stored else "",
        created_at=stored.created_at if stored else "",
        ruleset=body,
    )


class RulesController(Controller):
    path = "/api/sites/{site_key:str}/rules"
    guards = [admin_guard]  # noqa: RUF012 - Litestar reads it from the class
    tags = ["rules"]  # noqa: RUF012
    exception_handlers = {TriggersError: _error_response}  # noqa: RUF012
    dependencies = admin_dependencies("triggers")

    @get("/", opt=requires(SITE_READ))
    async def get_ruleset(
        self,
        request: AnyRequest,
        triggers: NamedDependency[TriggerService],
        site_id: NamedDependency[int],
        site_key: FromPath[str],
    ) -> RulesetOut:
        """The current compiled ruleset and its version."""
        return await _ruleset_out(triggers, site_key, site_id)

    @put("/", opt=requires(RULES_WRITE))
    async def put_ruleset(
        self,
        triggers: NamedDependency[TriggerService],
        site_id: NamedDependency[int],
        principal: NamedDependency[Principal],
        site_key: FromPath[str],
        body: RawBody,
    ) -> RulesetOut:
        """Replace the whole ruleset with a YAML or JSON document: a new version."""
        source = _text(body)
        ruleset = load_ruleset(source)
        author = principal.name
        await triggers.save_ruleset(site_id, ruleset, source=source, author=author)
        return await _ruleset_out(triggers, site_key, site_id)

    @post("/validate", status_code=200, opt=requires(RULES_WRITE))
    async def validate(
        self,
        request: AnyRequest,
        triggers: NamedDependency[TriggerService],
        site_id: NamedDependency[int],
        site_key: FromPath[str],
        body: RawBody,
    ) -> ValidationOut:
        """Check a ruleset document without saving it."""
        try:
            ruleset = load_ruleset(_text(body))
        except RulesetInvalidError as exc:
            return ValidationOut(ok=False, errors=exc.errors, rules=0)
        return ValidationOut(ok=True, errors=[], rules=len(ruleset.rules))

    @get("/versions", opt=requires(SITE_READ))
    async def versions(
        self,
        request: AnyRequest,
        triggers: NamedDependency[TriggerService],
        site_id: NamedDependency[int],
        site_key: FromPath[str],
    ) -> list[VersionOut]:
        """Every saved version, newest first."""
        stored = await triggers.versions(site_id)
        return [
            VersionOut(
                version=v.version,
                author=v.author,
                created_at=v.created_at,
                rules=len(v.body["rules"]),
                source=v.source,
            )
            for v in stored
        ]

    @get("/report", opt=requires(SITE_READ))
    async def report(
        self,
        request: AnyRequest,
        triggers: NamedDependency[TriggerService],
        site_id: NamedDependency[int],
        site_key: FromPath[str],
        *,
        days: Annotated[float, QueryParameter(gt=0, le=366)] = 30,
        mde: Annotated[float, QueryParameter(gt=0, le=1000)] = 10,
    ) -> ReportOut:
        """Per rule: fires by outcome, outreach outcomes, conversion of treated vs held out,
        lift with its interval, sample ratio check, sample size for a relative lift of
        ``mde`` percent."""
        rules = await triggers.report(site_id, days, mde / 100)
        return ReportOut(site=site_key, days=days, rules=rules)

    @post("/", status_code=201, opt=requires(RULES_WRITE))
    async def add_rule(
        self,
        triggers: NamedDependency[TriggerService],
        site_id: NamedDependency[int],
        principal: NamedDependency[Principal],
        site_key: FromPath[str],
        body: RawBody,
    ) -> RuleOut:
        """Add one rule (YAML or JSON): a new version."""
        rule, source = _rule_body(body)
        author = principal.name
        await triggers.edit_ruleset(site_id, edits.add_rule(rule), source=source, author=author)
        return await _rule_out(triggers, site_id, rule.id)

    @get("/{rule_id:str}", opt=requires(SITE_READ))
    async def get_rule(
        self,
        request: AnyRequest,
        triggers: NamedDependency[TriggerService],
        site_id: NamedDependency[int],
        site_key: FromPath[str],
        rule_id: FromPath[str],
    ) -> RuleOut:
        return await _rule_out(triggers, site_id, rule_id)

    @put("/{rule_id:str}", opt=requires(RULES_WRITE))
    async def replace_rule(
        self,
        *,
        request: AnyRequest,
        triggers: NamedDependency[TriggerService],
        site_id: NamedDependency[int],
        principal: NamedDependency[Principal],
        site_key: FromPath[str],
        rule_id: FromPath[str],
        body: RawBody,
    ) -> RuleOut:
        """Replace one rule: a new version."""
        rule, source = _rule_body(body, rule_id)
        author = principal.name
        await triggers.edit_ruleset(site_id, edits.replace_rule(rule), source=source, author=author)
        return await _rule_out(triggers, site_id, rule.id)

    @delete("/{rule_id:str}", status_code=200, opt=requires(RULES_WRITE))
    async def delete_rule(
        self,
        triggers: NamedDependency[TriggerService],
        site_id: NamedDependency[int],
        principal: NamedDependency[Principal],
        site_key: FromPath[str],
        rule_id: FromPath[str],
    ) -> RulesetOut:
        """Remove one rule: a new version (returned)."""
        author = principal.name
        edit = edits.remove_rule(rule_id)
        await triggers.edit_ruleset(site_id, edit, source=f"delete {rule_id}", author=author)
        return await _ruleset_out(triggers, site_key, site_id)


route_handlers: list[type[Controller]] = [RulesController]
