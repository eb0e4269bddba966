"""``bpract demo``: the API server and the demo store side by side, from a source checkout."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["demo_agent", "demo_owner", "register", "stage_help_articles"]

_REPO = Path(__file__).resolve().parents[2]
_SITE_NAME = "Northwind Threads (demo)"
_ORG_NAME = "Northwind Threads"
_TOKEN_NAME = "demo owner"  # noqa: S105 - the token's label, not a secret
_AGENT_EMAIL = "agent@northwind.example"
_AGENT_NAME = "Sam (Northwind support)"
_OWNER_EMAIL = "owner@northwind.example"
_OWNER_NAME = "Olivia (Northwind)"
_HELP = _REPO / "demo_site" / "site" / "help"


def stage_help_articles(source: Path, target: Path) -> str:
    """Copy the help articles (``*.md``) into ``target`` with their page URL as front matter.

    The demo store serves ``help/<name>.md`` at ``/help/<name>``; the front matter
    gives each ingested document that URL, so chat citations link to the page.
    Returns a fingerprint of the articles: unchanged articles, unchanged fingerprint.
    """
    target.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    wanted = set()
    for article in sorted(source.glob("*.md")):
        text = f"---\nurl: /help/{article.stem}\n---\n" + article.read_text(encoding="utf-8")
        digest.update(article.name.encode() + b"\0" + text.encode())
        staged = target / article.name
        wanted.add(staged.name)
        if not staged.exists() or staged.read_text(encoding="utf-8") != text:
            staged.write_text(text, encoding="utf-8")
    for stale in target.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    return digest.hexdigest()


def _ingest_help(data: Path, site_key: str, env: dict[str, str]) -> None:
    """``bpract kb add`` the help articles into the demo site; skipped when nothing changed."""
    fingerprint = stage_help_articles(_HELP, data / "help")
    stamp = data / "help.ingested"
    if stamp.exists() and stamp.read_text() == f"{site_key} {fingerprint}":
        return
    print("  indexing the help centre for the chat (first run only)…", flush=True)
    _bpract("kb", "add", str(data / "help"), "--site", site_key, env=env)
    stamp.write_text(f"{site_key} {fingerprint}")


def _bpract(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "bpract", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        input=stdin,
    )
    return done.stdout


def _private(path: Path, text: str) -> None:
    """Write a secret for the demo's own use, readable by this user only."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")


def _demo_site(env: dict[str, str], origins: list[str], data: Path) -> dict[str, Any]:
    """The demo's site (its organisation made first) with its identity secret.

    The secret is printed only when a site is made or its secret rotated, so the demo keeps
    it in the data directory; a site found without that file gets a new secret.
    """
    saved = data / "site.json"
    sites = json.loads(_bpract("sites", "list", "--json", env=env))
    for site in sites:
        if site["name"] == _SITE_NAME:
            known = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else {}
            if known.get("public_key") != site["public_key"]:
                rotated = json.loads(
                    _bpract("sites", "rotate-secret", site["public_key"], "--json", env=env)
                )
                known = {**site, "identity_secret": rotated["identity_secret"]}
                _private(saved, json.dumps(known))
            return {**site, "identity_secret": known["identity_secret"]}
    orgs = json.loads(_bpract("orgs", "list", "--json", env=env))
    if _ORG_NAME not in [o["name"] for o in orgs]:
        _bpract("orgs", "add", _ORG_NAME, env=env)
    flags = [arg for origin in origins for arg in ("--origin", origin)]
    created: dict[str, Any] = json.loads(
        _bpract("sites", "add", "--name", _SITE_NAME, "--org", _ORG_NAME, *flags, "--json", env=env)
    )
    _private(saved, json.dumps(created))
    return created


def _demo_token(env: dict[str, str], site: dict[str, Any], data: Path) -> Path:
    """An owner token of the demo's organisation for the admin API, kept in the data directory."""
    saved = data / "admin-token"
    tokens = json.loads(_bpract("tokens", "list", "--json", env=env))
    live = {t["name"] for t in tokens if t["revoked_at"] is None}
    if not saved.exists() or _TOKEN_NAME not in live:
        org = str(site["org_id"])
        token = _bpract("tokens", "create", _TOKEN_NAME, "--org", org, "--role", "owner", env=env)
        _private(saved, token.strip() + "\n")
    return saved


def _demo_person(
    env: dict[str, str], site: dict[str, Any], data: Path, *, email: str, name: str, access: str,
    file: str,
) -> dict[str, str]:  # fmt: skip
    """A person of the demo organisation, made once: ``{"email", "password"}``.

    Their password is generated here and kept in the data directory (only its hash is in the
    database); a person found without that file gets a new password.
    """
    saved = data / file
    known = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else {}
    org = str(site["org_id"])
    people = json.loads(_bpract("agents", "list", "--org", org, "--json", env=env))
    exists = any(a["email"] == email for a in people)
    if exists and known.get("email") == email and known.get("password"):
        return {"email": email, "password": str(known["password"])}
    password = secrets.token_urlsafe(18)
    who = ["--org", org, "--email", email]
    if exists:
        _bpract("agents", "password", *who, "--password-stdin", env=env, stdin=password + "\n")
    else:
        _bpract("agents", "add", *who, "--name", name, "--access", access, "--password-stdin",
                env=env, stdin=password + "\n")  # fmt: skip
    found = {"email": email, "password": password}
    _private(saved, json.dumps(found))
    return found


def demo_agent(env: dict[str, str], site: dict[str, Any], data: Path) -> dict[str, str]:
    """The demo organisation's inbox agent (reads the console, changes nothing there)."""
    return _demo_person(env, site, data, email=_AGENT_EMAIL, name=_AGENT_NAME, access="agent",
                        file="agent.json")  # fmt: skip


def demo_owner(env: dict[str, str], site: dict[str, Any], data: Path) -> dict[str, str]:
    """The demo organisation's owner: the console's every page, rules and budgets included."""
    return _demo_person(env, site, data, email=_OWNER_EMAIL, name=_OWNER_NAME, access="owner",
                        file="owner.json")  # fmt: skip


def _demo_actions(env: dict[str, str], site: dict[str, Any], data: Path, site_url: str) -> None:
    """Declare the demo store's API as the site's actions, on the store's own address."""
    source = (_REPO / "demo_site" / "actions.yaml").read_text(encoding="utf-8")
    staged, stamp = data / "actions.yaml", data / "actions.loaded"
    text = source.replace("http://127.0.0.1:8080", site_url)
    staged.write_text(text, encoding="utf-8")
    loaded = f"{site['public_key']} {hashlib.sha256(text.encode()).hexdigest()}"
    if stamp.exists() and stamp.read_text() == loaded:
        return
    key = site["public_key"]
    _bpract("actions", "load", str(staged), "--site", key, "--author", "demo", env=env)
    stamp.write_text(loaded)


def _demo_tickets(env: dict[str, str], site: dict[str, Any], data: Path, site_url: str) -> str:
    """Point the site's ticket webhook at the store's receiver; the signing secret, kept in
    the data directory (it is shown only when made: a missing file gets a new one)."""
    saved = data / "webhook-secret"
    args = ["tickets", "settings", "--site", site["public_key"], "--json"]
    args += ["--webhook", f"{site_url}/hooks/tickets"]
    if not saved.exists():
        args.append("--rotate-secret")
    made = json.loads(_bpract(*args, env=env))
    if made.get("secret"):
        _private(saved, made["secret"])
    return saved.read_text(encoding="utf-8").strip()


def _demo_api_key(data: Path) -> str:
    """The bearer key of the demo store's business API, made once and kept private."""
    saved = data / "demo-api-key"
    if not saved.exists():
        _private(saved, secrets.token_urlsafe(24))
    return saved.read_text(encoding="utf-8").strip()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback URL we built
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout_s:.0f} s")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run(args: argparse.Namespace) -> int:
    data = Path(args.data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    api_url = f"http://127.0.0.1:{args.port}"
    site_url = f"http://127.0.0.1:{args.site_port}"
    allow = ",".join(filter(None, [os.environ.get("BPRACT_OUTBOUND_ALLOW"), site_url]))
    env = {
        **os.environ,
        "BPRACT_DB": str(data / "bpract.db"),
        "BPRACT_HOST": "127.0.0.1",
        "BPRACT_PORT": str(args.port),
        "BPRACT_PUBLIC_URL": api_url,
        "BPRACT_TIME_SCALE": str(args.time_scale),
        # The actions call the demo store's API, and tickets its webhook, on loopback: that
        # origin is allowed, nothing else.
        "BPRACT_OUTBOUND_ALLOW": allow,
        "DEMO_API_KEY": _demo_api_key(data),
    }
    _bpract("db", "migrate", env=env)
    site = _demo_site(env, [site_url, f"http://localhost:{args.site_port}"], data)
    token_file = _demo_token(env, site, data)
    agent = demo_agent(env, site, data)
    owner = demo_owner(env, site, data)
    _bpract(
        "rules",
        "load",
        str(_REPO / "demo_site" / "rules.yaml"),
        "--site",
        site["public_key"],
        env=env,
    )
    _ingest_help(data, site["public_key"], env)
    _demo_actions(env, site, data, site_url)
    webhook_secret = _demo_tickets(env, site, data, site_url)
    demo_env = {
        **env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")])),
        "DEMO_PORT": str(args.site_port),
        "DEMO_BPRACT_URL": api_url,
        "DEMO_SITE_KEY": site["public_key"],
        "DEMO_IDENTITY_SECRET": site["identity_secret"],
        "DEMO_DB": str(data / "demo_site.db"),
        "DEMO_WEBHOOK_SECRET": webhook_secret,
        "DEMO_TICKETS_FILE": str(data / "tickets.jsonl"),
    }
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop stops both children
    api = subprocess.Popen([sys.executable, "-m", "bpract", "serve"], env=env)
    store = subprocess.Popen([sys.executable, "-m", "demo_site"], env=demo_env, cwd=_REPO)
    try:
        _wait_healthy(f"{api_url}/health", api)
        _wait_healthy(site_url, store)
        print(
            f"\n  BPract Agents demo\n"
            f"  open   {site_url}   (the store; the widget loads from {api_url})\n"
            f"  api    {api_url}/schema   site key {site['public_key']}\n"
            f"         owner token in {token_file} (Authorization: Bearer …)\n"
            f"  inbox  {api_url}/inbox/sign-in\n"
            f"         agent {agent['email']}  password {agent['password']}\n"
            f"  console {api_url}/console   (rules, their results, usage and budgets)\n"
            f"         owner {owner['email']}  password {owner['password']}\n"
            f"  tickets {site_url}/hooks/tickets   (what the store's webhook received)\n"
            f"  data   {data}\n  Ctrl-C stops both.\n",
            flush=True,
        )
        while api.poll() is None and store.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in (store, api):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in (store, api):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo", help="run the API server and the demo store (from a source checkout)"
    )
    demo.add_argument("--port", type=int, default=8000, help="API server port (default 8000)")
    demo.add_argument("--site-port", type=int, default=8080, help="demo store port (default 8080)")
    demo.add_argument("--data-dir", default=str(_REPO / ".bpract" / "demo"))
    demo.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="speed up attention timers (e.g. 10 makes the 60 s pricing rule fire after 6 s)",
    )
    demo.set_defaults(handler=_run)
