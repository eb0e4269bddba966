"""``bpract agents …``: add, list, change and disable the people who answer in the inbox; new
passwords.

A password is read from standard input with ``--password-stdin``; otherwise a strong one is
generated and printed this once (only its Argon2id hash is kept).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from typing import Any, Final, TypeVar

import apsw

from bpract.command import db_option, open_db, reporting_errors
from bpract.inbox import agents, passwords, storage
from bpract.inbox.errors import InboxError
from bpract.sites import Organisation, OrgNotFoundError, find_org, list_orgs, the_only_org
from bpract.store import transaction

__all__ = ["register"]

T = TypeVar("T")
_UNSET: Any = object()
_MAX_OPEN_HELP = (
    "most open conversations routing gives them: a number (0: none), or default"
    " (BPRACT_INBOX_MAX_OPEN)"
)


def _org(conn: apsw.Connection, ref: str | None) -> Organisation:
    """The organisation ``--org`` names, or the only one."""
    if ref is None:
        return the_only_org(conn)
    found = find_org(conn, ref)
    if found is None:
        raise OrgNotFoundError(f"no organisation {ref!r} (see `bpract orgs list`)")
    return found


def _write(args: argparse.Namespace, work: Callable[[apsw.Connection], T]) -> T:
    db = open_db(args)

    def locked(conn: apsw.Connection) -> T:
        with transaction(conn, lock=True):  # beside a running server: wait for the lock
            return work(conn)

    try:
        return db.run_sync(locked)
    finally:
        db.close()


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password to set, and whether it was generated (and must be shown)."""
    if not args.password_stdin:
        return passwords.generate(), True
    given = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not given:
        raise InboxError("no password on standard input")
    return given, False


def _shown(agent: storage.Agent) -> dict[str, Any]:
    return dataclasses.asdict(agent)


def _max_open(given: str) -> int | None:
    """``--max-open``: a number of conversations, or ``default`` (the server's)."""
    if given.strip().lower() == "default":
        return None
    try:
        return int(given)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number or default, not {given!r}") from None


def _limit(agent: storage.Agent) -> str:
    return "default" if agent.max_open is None else str(agent.max_open)


def _print_agent(agent: storage.Agent) -> None:
    print(f"id {agent.id}\nemail {agent.email}\nrole {agent.role}\naccess {agent.access}")
    print(f"departments {' '.join(agent.departments)}\nmax_open {_limit(agent)}")


def _add(args: argparse.Namespace) -> int:
    password, generated = _password(args)
    password_hash = passwords.hash_password(password)
    agent = _write(
        args,
        lambda c: agents.add_agent(
            c, org_id=_org(c, args.org).id, email=args.email, display_name=args.name,
            password_hash=password_hash, role=args.role, departments=args.department,
            max_open=args.max_open, access=args.access,
        ),
    )  # fmt: skip
    if args.json:
        shown = {"agent": _shown(agent), **({"password": password} if generated else {})}
        print(json.dumps(shown))
        return 0
    _print_agent(agent)
    if generated:
        print(f"password {password}\n(shown this once: only its hash is kept)")
    return 0


def _list(args: argparse.Namespace) -> int:
    db = open_db(args)

    def listed(conn: apsw.Connection) -> tuple[list[storage.Agent], dict[int, str]]:
        org_id = None if args.org is None else _org(conn, args.org).id
        return storage.list_agents(conn, org_id), {o.id: o.name for o in list_orgs(conn)}

    try:
        found, orgs = db.run_sync(listed)
    finally:
        db.close()
    if args.json:
        print(json.dumps([{**_shown(a), "org": orgs.get(a.org_id, "")} for a in found]))
        return 0
    print("id\temail\tname\torg\trole\tdepartments\tmax_open\tcreated\tdisabled\taccess")
    for a in found:
        cells = [a.id, a.email, a.display_name, orgs.get(a.org_id, ""), a.role]
        cells += [",".join(a.departments), _limit(a), a.created_at, a.disabled_at or "-", a.access]
        print("\t".join(str(c) for c in cells))
    return 0


def _set(args: argparse.Namespace) -> int:
    departments = (
        agents.KEEP
        if args.departments is None
        else [d for d in args.departments.split(",") if d.strip()]
    )
    max_open = agents.KEEP if args.max_open is _UNSET else args.max_open
    agent = _write(
        args,
        lambda c: agents.update_agent(
            c,
            _org(c, args.org).id,
            args.email,
            max_open=max_open,
            departments=departments,
            access=agents.KEEP if args.access is None else args.access,
        ),
    )
    if args.json:
        print(json.dumps({"agent": _shown(agent)}))
        return 0
    _print_agent(agent)
    return 0


def _disable(args: argparse.Namespace) -> int:
    agent = _write(args, lambda c: agents.disable_agent(c, _org(c, args.org).id, args.email))
    print(f"disabled {agent.email}; their sessions have ended")
    return 0


def _new_password(args: argparse.Namespace) -> int:
    password, generated = _password(args)
    password_hash = passwords.hash_password(password)
    agent = _write(
        args, lambda c: agents.set_password(c, _org(c, args.org).id, args.email, password_hash)
    )
    print(f"new password for {agent.email}; their sessions have ended")
    if generated:
        print(f"password {password}\n(shown this once: only its hash is kept)")
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", help="organisation name or id (default: the only one)")
    parser.add_argument("--email", required=True)


_ACCESS: Final = [a.value for a in agents.Access]
_ACCESS_HELP: Final = (
    "what they may do in the console: owner (everything), marketer (rules, results, usage;"
    " no secrets, no people), agent (read only; the default)"
)


def register(subparsers: Any) -> None:
    """Add ``bpract agents`` to the command line."""
    db = db_option()
    sub = subparsers.add_parser("agents", help="people who answer visitors in the inbox")
    commands = sub.add_subparsers(dest="agents_command", required=True)
    stdin_help = "read the password from standard input (else one is generated and printed)"

    add = commands.add_parser("add", parents=[db], help="add an agent to an organisation")
    _common(add)
    add.add_argument("--name", required=True, help="the name visitors and colleagues see")
    add.add_argument(
        "--department",
        action="append",
        help="a department they answer for (repeat; default support)",
    )
    add.add_argument("--role", default="agent", choices=[r.value for r in agents.AgentRole])
    add.add_argument("--access", default="agent", choices=_ACCESS, help=_ACCESS_HELP)
    add.add_argument("--max-open", type=_max_open, help=_MAX_OPEN_HELP)
    add.add_argument("--password-stdin", action="store_true", help=stdin_help)
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=reporting_errors(_add))

    ls = commands.add_parser("list", parents=[db], help="list agents (never their passwords)")
    ls.add_argument("--org", help="only this organisation's agents")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=reporting_errors(_list))

    change = commands.add_parser(
        "set", parents=[db], help="change an agent's limit of open conversations or departments"
    )
    _common(change)
    change.add_argument("--max-open", type=_max_open, default=_UNSET, help=_MAX_OPEN_HELP)
    change.add_argument("--departments", help="the departments they answer for: a,b (replaced)")
    change.add_argument("--access", choices=_ACCESS, help=_ACCESS_HELP)
    change.add_argument("--json", action="store_true")
    change.set_defaults(handler=reporting_errors(_set))

    disable = commands.add_parser("disable", parents=[db], help="stop an agent signing in")
    _common(disable)
    disable.set_defaults(handler=reporting_errors(_disable))

    password = commands.add_parser(
        "password", parents=[db], help="give an agent a new password; their sessions end"
    )
    _common(password)
    password.add_argument("--password-stdin", action="store_true", help=stdin_help)
    password.set_defaults(handler=reporting_errors(_new_password))
