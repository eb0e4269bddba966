"""Agents: who answers visitors for an organisation — add, list, change, disable, new password."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Final

import apsw

from bpract.inbox import storage
from bpract.inbox.errors import AgentExistsError, AgentNotFoundError, InboxError
from bpract.inbox.storage import Agent

__all__ = [
    "DEFAULT_DEPARTMENTS",
    "KEEP",
    "MAX_OPEN_LIMIT",
    "Access",
    "AgentRole",
    "Keep",
    "add_agent",
    "check_max_open",
    "disable_agent",
    "normalize_email",
    "set_password",
    "update_agent",
]

DEFAULT_DEPARTMENTS: Final = ("support",)
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_EMAIL: Final = 254
_MAX_NAME: Final = 100
_MAX_DEPARTMENT: Final = 64
MAX_OPEN_LIMIT: Final = 1000
"""The largest limit of open conversations an agent may be given."""


class Keep(Enum):
    """Leave a field as it is (:func:`update_agent`)."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


class AgentRole(StrEnum):
    """What they do in the inbox: a supervisor may hand back or transfer anyone's conversation."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"


class Access(StrEnum):
    """What they may do in the console.

    An owner does everything: sites and their identity secrets, people, rules, budgets.
    A marketer writes, backtests, launches and judges rules and reads usage, but never
    sees an identity secret or manages people.  An agent reads the console, edits nothing.
    """

    OWNER = "owner"
    MARKETER = "marketer"
    AGENT = "agent"


def normalize_email(email: str) -> str:
    """``email`` trimmed and lower-cased; raises :class:`InboxError` if it is not an address."""
    found = email.strip().lower()
    if len(found) > _MAX_EMAIL or not _EMAIL.match(found):
        raise InboxError(f"not an email address: {email!r}")
    return found


def _departments(names: Sequence[str] | None) -> list[str]:
    kept: list[str] = []
    for given in names or DEFAULT_DEPARTMENTS:
        name = given.strip()
        if not name or len(name) > _MAX_DEPARTMENT:
            raise InboxError(f"a department is 1 to {_MAX_DEPARTMENT} characters: {given!r}")
        if name not in kept:
            kept.append(name)
    return kept


def check_max_open(max_open: int | None) -> int | None:
    """``max_open`` if it is a limit an agent may have (None: the server's default)."""
    if max_open is not None and not 0 <= max_open <= MAX_OPEN_LIMIT:
        raise InboxError(f"a limit of open conversations is 0 to {MAX_OPEN_LIMIT}: {max_open}")
    return max_open


def _access(access: Access | str) -> Access:
    try:
        return Access(access)
    except ValueError:
        raise InboxError(f"access is owner, marketer or agent, not {access!r}") from None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def add_agent(
    conn: apsw.Connection,
    *,
    org_id: int,
    email: str,
    display_name: str,
    password_hash: str,
    role: AgentRole | str = AgentRole.AGENT,
    departments: Sequence[str] | None = None,
    max_open: int | None = None,
    access: Access | str = Access.AGENT,
) -> Agent:
    """A new agent of organisation ``org_id``; an email is unique within an organisation.
    ``max_open``: their own limit of open conversations (None: ``BPRACT_INBOX_MAX_OPEN``)."""
    email = normalize_email(email)
    name = display_name.strip()
    if not name or len(name) > _MAX_NAME:
        raise InboxError(f"a display name is 1 to {_MAX_NAME} characters")
    try:
        role = AgentRole(role)
    except ValueError:
        raise InboxError(f"a role is agent or supervisor, not {role!r}") from None
    access = _access(access)
    max_open = check_max_open(max_open)
    if storage.agent_by_email(conn, org_id, email) is not None:
        raise AgentExistsError(f"this organisation has an agent {email} already")
    agent_id = storage.insert_agent(
        conn, org_id=org_id, email=email, display_name=name, password_hash=password_hash,
        role=role.value, departments=_departments(departments), created_at=_now(),
        max_open=max_open, access=access.value,
    )  # fmt: skip
    made = storage.agent_by_id(conn, agent_id)
    assert made is not None
    return made


def _existing(conn: apsw.Connection, org_id: int, email: str) -> Agent:
    found = storage.agent_by_email(conn, org_id, normalize_email(email))
    if found is None:
        raise AgentNotFoundError(f"this organisation has no agent {email.strip()}")
    return found


def update_agent(
    conn: apsw.Connection,
    org_id: int,
    email: str,
    *,
    max_open: int | Keep | None = KEEP,
    departments: Sequence[str] | Keep = KEEP,
    access: Access | str | Keep = KEEP,
) -> Agent:
    """Change agent ``email`` of ``org_id``: their limit of open conversations (None: back to
    the server's default) and their departments (a non-empty list); :data:`KEEP` leaves one as
    it is; and what they may do in the console (``access``). Routing sees the change at once;
    conversations they have stay theirs."""
    if max_open is KEEP and departments is KEEP and access is KEEP:
        raise InboxError("nothing to change: give a limit, departments or access")
    if departments is not KEEP and not departments:
        raise InboxError("an agent answers for at least one department")
    agent = _existing(conn, org_id, email)
    if not isinstance(max_open, Keep):
        storage.set_max_open(conn, agent.id, check_max_open(max_open))
    if not isinstance(departments, Keep):
        storage.set_departments(conn, agent.id, _departments(departments))
    if not isinstance(access, Keep):
        storage.set_access(conn, agent.id, _access(access).value)
    changed = storage.agent_by_id(conn, agent.id)
    assert changed is not None
    return changed


def disable_agent(conn: apsw.Connection, org_id: int, email: str) -> Agent:
    """Stop agent ``email`` of ``org_id`` signing in; its open sessions end at once."""
    agent = _existing(conn, org_id, email)
    storage.disable_agent(conn, agent.id, _now())
    disabled = storage.agent_by_id(conn, agent.id)
    assert disabled is not None
    return disabled


def set_password(conn: apsw.Connection, org_id: int, email: str, password_hash: str) -> Agent:
    """Give agent ``email`` of ``org_id`` a new password; its open sessions end at once."""
    agent = _existing(conn, org_id, email)
    storage.set_password_hash(conn, agent.id, password_hash)
    storage.delete_sessions_of(conn, agent.id)
    return agent
