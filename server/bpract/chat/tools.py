"""The site's declared actions as the chat model's tools, and the calls of one visitor message.

A tool is an action as the model may see it: its description and its parameters
*without* those bound from the identity (the account is never the model's to
name, so it never appears), each number capped at its declared limit.  Every
declared action is offered; what the visitor may not do (not signed in, over a
limit) the runner refuses, and the tool result says why.

:class:`ToolCalls` answers the model's calls for one visitor message: a call the
model already made is not proposed again, and after :data:`MAX_CALLS` calls no
more are proposed; every other call goes to the runner, which validates it,
audits it and turns it into a card, a read's result or a refusal.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Final

from bpract.actions.outcomes import Asker, Outcome, Proposer, Refused, for_model
from bpract.actions.spec import HANDOFF_TOOL, Action, ActionSet
from bpract.llm import Message, Tool, ToolCall

__all__ = ["HANDOFF", "MAX_CALLS", "Handoff", "ToolCalls", "Toolbox", "as_tool", "offered"]

log = logging.getLogger("bpract.chat")

#: Tool calls the model may make for one visitor message.
MAX_CALLS: Final = 5
_EXAMPLES: Final = 3
_REPEATED: Final = "This exact call was already made for this message: use its result."
_TOO_MANY: Final = "No more actions for this message: answer the visitor in text now."
_CARD: Final = " It shows the visitor a card; nothing happens unless they click Confirm."
_UNDECLARED: Final = "There is no such action."
_HANDED_OFF: Final = '{"status":"handed_off"}'


_DEPARTMENT: Final = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_REASON_CHARS: Final = 200
#: The model hands off through this tool, never by phrasing it; declared actions cannot take
#: its name (``bpract.actions.spec`` refuses it).
HANDOFF: Final = Tool(
    name=HANDOFF_TOOL,
    description=(
        "Pass this conversation to a person on the team: when the visitor asks for a person, "
        "when you cannot help with what they need, or when it needs a human (a complaint, a "
        "legal or safety matter). The visitor is told at once that a person will answer. "
        "Never say you are passing the conversation on without calling this."
    ),
    parameters={
        "type": "object",
        "properties": {
            "reason": {
                "type": "string",
                "maxLength": _REASON_CHARS,
                "description": "Why, in a few words, for the person who takes over",
            },
            "department": {
                "type": "string",
                "pattern": f"^{_DEPARTMENT.pattern}$",
                "description": "The team it is for (support, billing, sales…); "
                "leave it out when unsure",
            },
        },
        "required": ["reason"],
    },
)


@dataclass(frozen=True, slots=True)
class Handoff:
    """The model handed the conversation to a person: why, and for which team (None: the
    conversation's own)."""

    reason: str
    department: str | None


def _handoff(arguments: dict[str, Any]) -> Handoff:
    reason = arguments.get("reason")
    department = arguments.get("department")
    text = " ".join(reason.split())[:_REASON_CHARS] if isinstance(reason, str) else ""
    team = department if isinstance(department, str) and _DEPARTMENT.fullmatch(department) else None
    return Handoff(reason=text or "The assistant handed it over.", department=team)


def _parameters(action: Action) -> dict[str, Any]:
    """The parameters' schema without the bound ones, numbers capped at their limits."""
    bound = action.bound()
    schema = {k: copy.deepcopy(v) for k, v in action.parameters.items() if k != "properties"}
    properties = {
        name: copy.deepcopy(prop) for name, prop in action.properties().items() if name not in bound
    }
    for name, ceiling in action.limits.max.items():
        prop = properties.get(name)
        if prop is not None:
            limit = int(ceiling) if ceiling == int(ceiling) else ceiling  # 5000, not 5000.0
            prop["maximum"] = min(prop.get("maximum", limit), limit)
    schema["properties"] = properties
    required = [n for n in action.parameters.get("required", []) if n not in bound]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    return schema


def as_tool(action: Action) -> Tool:
    """One declared action as the model sees it."""
    description = action.description.strip()
    if action.needs_click():
        description += _CARD
    examples = [e.strip() for e in action.examples[:_EXAMPLES]]
    if examples:
        description += " For example: " + "; ".join(f'"{e}"' for e in examples) + "."
    return Tool(name=action.name, description=description, parameters=_parameters(action))


def offered(actions: ActionSet | None) -> tuple[Tool, ...]:
    """Every declared action of the site, as tools, and the hand-off to a person."""
    return (*(as_tool(a) for a in actions.actions), HANDOFF) if actions else (HANDOFF,)


@dataclass(frozen=True, slots=True)
class Toolbox:
    """The tools offered to the model, who proposes their calls (None: no actions are
    declared), and for whom."""

    tools: tuple[Tool, ...]
    proposer: Proposer | None
    asker: Asker


def _key(call: ToolCall) -> str:
    """The call as canonical JSON: equal names and arguments give one key."""
    return json.dumps(
        [call.name, call.arguments], sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        default=str,
    )  # fmt: skip


class ToolCalls:
    """The model's tool calls for one visitor message, and what the proposed ones came to."""

    def __init__(self, toolbox: Toolbox) -> None:
        self.toolbox = toolbox
        self.made = 0
        """Every call the model made, proposed or not."""
        self.outcomes: list[Outcome] = []
        """What each proposed call came to, in order (the runner's own outcomes)."""
        self.handoff: Handoff | None = None
        """Set when the model handed the conversation to a person."""
        self._seen: set[str] = set()

    @property
    def open(self) -> bool:
        """Whether the model may still call a tool for this message."""
        return self.made < MAX_CALLS

    async def answer(self, call: ToolCall) -> Message:
        """The ``tool`` message that answers ``call``."""
        if call.name == HANDOFF_TOOL:
            self.made += 1
            self.handoff = self.handoff or _handoff(call.arguments)
            return Message(role="tool", content=_HANDED_OFF, tool_call_id=call.id)
        outcome = await self._outcome(call)
        return Message(role="tool", content=for_model(outcome), tool_call_id=call.id)

    async def _outcome(self, call: ToolCall) -> Outcome:
        self.made += 1
        if self.made > MAX_CALLS:
            return self._refused(call, "too_many_calls", _TOO_MANY)
        key = _key(call)
        if key in self._seen:
            return self._refused(call, "repeated_call", _REPEATED)
        self._seen.add(key)
        box = self.toolbox
        if box.proposer is None:
            return self._refused(call, "undeclared", _UNDECLARED)
        outcome = await box.proposer.propose(box.asker, call.name, call.arguments, source="model")
        self.outcomes.append(outcome)
        return outcome

    def _refused(self, call: ToolCall, reason: str, text: str) -> Refused:
        log.info("chat: tool call %.64s not proposed (%s)", call.name, reason)
        return Refused(action=call.name, reason=reason, text=text)
