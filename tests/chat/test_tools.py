"""The declared actions as tools, and the calls of one message: repeats and a sixth refused."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from bpract.actions import load_actions
from bpract.actions.outcomes import Asker, Outcome, Ran, Source
from bpract.chat.tools import HANDOFF, MAX_CALLS, Handoff, Toolbox, ToolCalls, as_tool, offered
from bpract.llm import ToolCall
from chat.test_actions_chat import DEMO

ACTIONS = load_actions(DEMO)
ASKER = Asker(site_id=1, conversation="c_1", visitor="v_1", user_id="u_1001")


class Recorder:
    """A proposer that runs nothing: it records each proposal and says it was done."""

    def __init__(self) -> None:
        self.proposed: list[tuple[str, dict[str, Any], Source]] = []

    async def propose(
        self, asker: Asker, name: str, arguments: Mapping[str, Any], *, source: Source
    ) -> Outcome:
        self.proposed.append((name, dict(arguments), source))
        return Ran(action=name, ok=True, result={"n": len(self.proposed)}, text="Done.")


def test_a_tool_never_names_the_bound_account() -> None:
    tools = {t.name: t for t in offered(ACTIONS)}
    assert list(tools) == [a.name for a in ACTIONS.actions] + ["hand_to_person"]
    assert "account_id" not in json.dumps([t.parameters for t in tools.values()])
    refund = tools["refund_damaged_item"].parameters
    assert refund["type"] == "object" and refund["required"] == ["amount_cents"]
    assert set(refund["properties"]) == {"amount_cents", "reason"}
    assert json.dumps(refund["properties"]["amount_cents"]["maximum"]) == "5000"  # the limit
    assert "required" not in tools["order_status"].parameters  # only the account was required
    assert tools["order_status"].parameters["properties"] == {}
    # The declaration itself is unchanged.
    action = ACTIONS.action("refund_damaged_item")
    assert action is not None and "account_id" in action.properties()
    assert "maximum" not in action.properties()["amount_cents"]


def test_a_tool_says_what_it_does_and_that_a_write_waits_for_a_click() -> None:
    refund = ACTIONS.action("refund_damaged_item")
    status = ACTIONS.action("order_status")
    assert refund is not None and status is not None
    described = as_tool(refund).description
    assert described.startswith(refund.description)
    assert "click Confirm" in described and '"My jacket arrived torn, I want a refund"' in described
    assert "click Confirm" not in as_tool(status).description


async def test_a_repeated_call_and_calls_past_the_cap_are_not_proposed() -> None:
    recorder = Recorder()
    calls = ToolCalls(Toolbox(offered(ACTIONS), recorder, ASKER))
    first = ToolCall(
        id="a", name="refund_damaged_item", arguments={"amount_cents": 5, "reason": "x"}
    )
    same = ToolCall(
        id="b", name="refund_damaged_item", arguments={"reason": "x", "amount_cents": 5}
    )
    answers = [await calls.answer(first), await calls.answer(same)]
    assert [m.tool_call_id for m in answers] == ["a", "b"]
    assert json.loads(answers[0].content)["status"] == "done"
    assert json.loads(answers[1].content)["reason"] == "repeated_call"
    for n in range(MAX_CALLS - 2):
        await calls.answer(ToolCall(id=f"c{n}", name="order_status", arguments={"n": n}))
    assert not calls.open
    past = await calls.answer(ToolCall(id="z", name="order_status", arguments={"n": 99}))
    assert json.loads(past.content) == {
        "status": "refused", "reason": "too_many_calls",
        "message": "No more actions for this message: answer the visitor in text now.",
    }  # fmt: skip
    assert [(name, source) for name, _, source in recorder.proposed] == [
        ("refund_damaged_item", "model"), *[("order_status", "model")] * (MAX_CALLS - 2),
    ]  # fmt: skip
    assert len(calls.outcomes) == len(recorder.proposed) == MAX_CALLS - 1


async def test_the_hand_off_is_recorded_never_proposed_and_its_words_are_bounded() -> None:
    recorder = Recorder()
    calls = ToolCalls(Toolbox(offered(None), None, ASKER))
    assert calls.toolbox.tools == (HANDOFF,)  # no actions declared: only the hand-off
    long = "The visitor is angry about a late parcel.   " * 20
    first = ToolCall(id="t1", name="hand_to_person",
                     arguments={"reason": long, "department": "billing"})  # fmt: skip
    answered = await calls.answer(first)
    assert json.loads(answered.content) == {"status": "handed_off"}
    assert calls.handoff is not None and calls.handoff.department == "billing"
    assert len(calls.handoff.reason) == 200 and "  " not in calls.handoff.reason
    # a later call keeps the first reason; an action with no proposer is refused, not run
    await calls.answer(ToolCall(id="t2", name="hand_to_person", arguments={"reason": "x"}))
    assert calls.handoff.reason.startswith("The visitor is angry")
    refused = await calls.answer(ToolCall(id="t3", name="refund_damaged_item", arguments={}))
    assert json.loads(refused.content)["status"] == "refused" and recorder.proposed == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, Handoff(reason="The assistant handed it over.", department=None)),
        ({"reason": 7, "department": "../admin"}, Handoff("The assistant handed it over.", None)),
        ({"reason": "Legal question", "department": "Legal Team"}, Handoff("Legal question", None)),
        (
            {"reason": "Refund dispute", "department": "billing"},
            Handoff("Refund dispute", "billing"),
        ),
    ],
)
async def test_hand_off_arguments_the_model_got_wrong_are_made_safe(
    arguments: dict[str, object], expected: Handoff
) -> None:
    calls = ToolCalls(Toolbox(offered(None), None, ASKER))
    await calls.answer(ToolCall(id="t1", name="hand_to_person", arguments=arguments))
    assert calls.handoff == expected
