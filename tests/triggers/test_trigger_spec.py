"""Parsing and validation of rule input: every error names its path."""

from __future__ import annotations

import json

import pytest

from bpract.triggers.errors import FieldError, RulesetInvalidError
from bpract.triggers.spec import (
    compile_ruleset,
    load_rule,
    load_ruleset,
    ruleset_from_compiled,
    validate_ruleset,
)
from bpract_client.rules import engine_view, ruleset_from_dict

GOOD = """
policy:
  interruption_budget: 2
rules:
  - id: pricing-offer
    name: Offer help on pricing
    when:
      page: ["/pricing*"]
      attentive_seconds: 60
      identified: false
      traits: {plan: null}
    message:
      text: "Comparing plans? I can help."
      cta: {label: "See annual pricing", url: "/pricing?billing=annual"}
    cap: {count: 1, days: 7}
    cooldown: 1h
    holdout: 10
    schedule:
      days: [mon, tue, wed, thu, fri]
      start: 09:00
      end: 18:00
      tz: Europe/Paris
"""


def errors_of(text: str) -> list[FieldError]:
    with pytest.raises(RulesetInvalidError) as caught:
        load_ruleset(text)
    return caught.value.errors


def rule_yaml(extra: str, when: str = "{}") -> str:
    return f"rules:\n  - id: r1\n    message: {{text: hi}}\n    when: {when}\n{extra}"


def test_a_valid_ruleset_compiles_with_defaults_and_seconds() -> None:
    body = compile_ruleset(load_ruleset(GOOD), 4)
    assert body["version"] == 4
    rule = body["rules"][0]
    assert rule["cooldown"] == 3600
    assert rule["schedule"]["start"] == "09:00"  # YAML 1.1 read 09:00 as a number of minutes
    assert rule["schedule"]["end"] == "18:00"
    assert rule["on_decider_failure"] == "fallback"
    assert rule["when"]["scroll_percent"] is None
    assert body["policy"]["suppress_while_typing"] is True


def test_compiled_json_reads_back_on_the_server_and_in_the_engine() -> None:
    ruleset = load_ruleset(GOOD)
    body = compile_ruleset(ruleset, 2)
    back = ruleset_from_compiled(body)
    assert back.rules == ruleset.rules
    assert back.version == 2
    engine = ruleset_from_dict(engine_view(back))
    assert engine.version == 2
    assert engine.rules[0].when == ruleset.rules[0].when


def test_json_input_is_accepted() -> None:
    text = '{"rules": [{"id": "a", "message": {"text": "hi"}, "cooldown": 90}]}'
    assert load_ruleset(text).rules[0].cooldown_seconds == 90


def test_unknown_key_names_its_path_and_suggests_the_right_one() -> None:
    errors = errors_of(rule_yaml("", when="{atentive_seconds: 60}"))
    assert errors == [
        FieldError(
            path="rules[0].when.atentive_seconds",
            message="unknown key 'atentive_seconds' — did you mean 'attentive_seconds'?",
        )
    ]


def test_unknown_keys_everywhere_are_all_reported() -> None:
    text = "polcy: {}\npolicy: {interuption_budget: 1}\nrules:\n  - id: a\n    mesage: {text: hi}\n"
    paths = {e.path: e.message for e in errors_of(text)}
    assert "did you mean 'policy'" in paths["polcy"]
    assert "did you mean 'interruption_budget'" in paths["policy.interuption_budget"]
    assert "did you mean 'message'" in paths["rules[0].mesage"]


def test_an_unknown_key_without_a_close_match_lists_the_known_ones() -> None:
    (error,) = errors_of(rule_yaml("    cap: {zzz: 1}\n"))
    assert error.path == "rules[0].cap.zzz"
    assert "known: count, days" in error.message


@pytest.mark.parametrize(
    ("when", "path", "fragment"),
    [
        ('{page: ["pricing*"]}', "rules[0].when.page[0]", "start 'pricing*' with '/'"),
        ('{page: ["/ok", "/a b"]}', "rules[0].when.page[1]", "whitespace"),
        ('{not_page: [""]}', "rules[0].when.not_page[0]", "cannot be empty"),
        ("{page: []}", "rules[0].when.page", "at least one glob"),
        ('{referrer: ["goo gle.com"]}', "rules[0].when.referrer[0]", "whitespace"),
        ('{visits: {page: "blog/*"}}', "rules[0].when.visits.page", "start 'blog/*'"),
    ],
)
def test_bad_globs(when: str, path: str, fragment: str) -> None:
    (error,) = errors_of(rule_yaml("", when=when))
    assert error.path == path
    assert fragment in error.message


@pytest.mark.parametrize(
    "url",
    [
        "//evil.example/x",
        "/\\evil.example",
        "/%2F/evil.example",
        "/%09/evil.example",
        "https://shop.example@evil.example/",
        "javascript:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        "pricing",
    ],
)
def test_a_cta_that_leaves_the_site_or_http_is_refused_with_its_path(url: str) -> None:
    rule = {"id": "r1", "when": {}, "message": {"text": "hi", "cta": {"label": "Go", "url": url}}}
    (error,) = errors_of(json.dumps({"rules": [rule]}))
    assert error.path == "rules[0].message.cta.url"
    assert "not an absolute http(s) URL or a path on the site" in error.message


def test_unknown_time_zone() -> None:
    (error,) = errors_of(rule_yaml("    schedule: {tz: Mars/Olympus_Mons}\n"))
    assert error.path == "rules[0].schedule.tz"
    assert "unknown time zone 'Mars/Olympus_Mons'" in error.message


def test_schedule_times_must_be_clock_times() -> None:
    (error,) = errors_of(rule_yaml('    schedule: {start: "9am"}\n'))
    assert error == FieldError(
        path="rules[0].schedule.start", message="schedule.start must be HH:MM"
    )


def test_a_schedule_with_no_days_would_never_run() -> None:
    (error,) = errors_of(rule_yaml("    schedule: {days: []}\n"))
    assert error.path == "rules[0].schedule.days"


@pytest.mark.parametrize("cooldown", ["5x", "1 week", "-3s", "h"])
def test_bad_durations(cooldown: str) -> None:
    (error,) = errors_of(rule_yaml(f'    cooldown: "{cooldown}"\n'))
    assert error.path == "rules[0].cooldown"
    assert "duration" in error.message


@pytest.mark.parametrize("holdout", [-1, 100.5, 250])
def test_holdout_is_a_percentage(holdout: float) -> None:
    (error,) = errors_of(rule_yaml(f"    holdout: {holdout}\n"))
    assert error == FieldError(
        path="rules[0].holdout", message="holdout must be a percentage within 0..100"
    )


def test_type_errors_carry_msgspec_paths() -> None:
    (error,) = errors_of(rule_yaml("    cap: {count: many}\n"))
    assert error == FieldError(path="rules[0].cap.count", message="Expected `int`, got `str`")


def test_problems_in_several_rules_are_all_reported() -> None:
    text = """
rules:
  - {id: Bad_Id, message: {text: hi}}
  - {id: ok, message: {text: ""}}
  - {id: ok, message: {text: hi}, when: {scroll_percent: 140}}
  - {id: ok, message: {text: hi}}
  - {id: report, message: {text: hi}}
"""
    paths = {e.path: e.message for e in errors_of(text)}
    assert paths["rules[0].id"].startswith("id must be")
    assert paths["rules[1].message.text"] == "message.text must be 1..500 characters"
    assert paths["rules[2].when.scroll_percent"] == "scroll_percent must be within 0..100"
    assert paths["rules[3].id"] == "duplicate rule id 'ok' (also rules[1])"
    assert paths["rules[4].id"] == "this id is reserved"


def test_policy_ranges() -> None:
    (error,) = errors_of("policy: {interruption_budget: -1}\nrules: []\n")
    assert error == FieldError(
        path="policy.interruption_budget", message="interruption_budget must be >= 0"
    )


@pytest.mark.parametrize(
    ("text", "path", "fragment"),
    [
        ("", "$", "empty"),
        ("rules: [unclosed\n", "line 1, column 17", ""),
        ('{"rules": [}', "line 1, column 12", "Expecting value"),
        ("- just\n- a list\n", "$", "mapping"),
        ("rules: {id: a}\n", "rules", "list of rules"),
        ("rules: [42]\n", "rules[0]", "a rule is a mapping"),
    ],
)
def test_documents_that_are_not_rulesets(text: str, path: str, fragment: str) -> None:
    (error,) = errors_of(text)
    assert error.path == path
    assert fragment in error.message


def test_single_rule_input_is_validated_the_same_way() -> None:
    rule = load_rule("id: one\nmessage: {text: hi}\ncooldown: 15m\n")
    assert rule.cooldown_seconds == 900
    with pytest.raises(RulesetInvalidError) as caught:
        load_rule("id: one\nmessage: {text: hi}\nholdot: 5\n")
    assert caught.value.errors[0].path == "rule.holdot"
    assert "did you mean 'holdout'" in caught.value.errors[0].message


def test_error_detail_summarises_the_list() -> None:
    with pytest.raises(RulesetInvalidError) as caught:
        validate_ruleset({"rules": [{"id": "A"}, {"id": "b"}]})
    assert caught.value.detail.startswith("rules[0]")
    assert "(and 1 more)" in caught.value.detail
