"""Demo site settings, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DemoSettings"]

_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoSettings:
    """Where the demo listens, which BPract server its pages embed, and its secrets."""

    port: int = 8080
    """TCP port on 127.0.0.1 (``DEMO_PORT``); 0 picks a free one."""
    bpract_url: str = "http://127.0.0.1:8000"
    """Base URL of the BPract server whose ``/widget.js`` every page loads (``DEMO_BPRACT_URL``)."""
    site_key: str = "pk_demo"
    """Public site key put in ``data-site`` (``DEMO_SITE_KEY``)."""
    # The demo's secrets are public on purpose: it listens on 127.0.0.1 and holds fictional data.
    identity_secret: str = "demo-identity-secret"  # noqa: S105
    """HMAC key for ``user_hash``; the BPract site holds the same (``DEMO_IDENTITY_SECRET``)."""
    api_key: str = "nw_demo_key"
    """Bearer key for ``/api/accounts`` and ``/api/orders`` (``DEMO_API_KEY``)."""
    db_path: Path = _HERE / "data" / "demo.sqlite3"
    """SQLite file holding accounts, orders and idempotency records (``DEMO_DB``)."""
    site_dir: Path = _HERE / "site"
    """The static pages served at ``/``."""
    webhook_secret: str = ""
    """The BPract site's ticket signing secret (``whsec_…``, ``DEMO_WEBHOOK_SECRET``); without
    one, ``POST /hooks/tickets`` refuses every delivery."""
    tickets_file: Path | None = None
    """JSON lines of the tickets received (``DEMO_TICKETS_FILE``; default: next to the db)."""

    @property
    def tickets_path(self) -> Path:
        return self.tickets_file or self.db_path.with_name("tickets.jsonl")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DemoSettings:
        env: Mapping[str, str] = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            port=int(env.get("DEMO_PORT", defaults.port)),
            bpract_url=env.get("DEMO_BPRACT_URL", defaults.bpract_url).rstrip("/"),
            site_key=env.get("DEMO_SITE_KEY", defaults.site_key),
            identity_secret=env.get("DEMO_IDENTITY_SECRET", defaults.identity_secret),
            api_key=env.get("DEMO_API_KEY", defaults.api_key),
            db_path=Path(env.get("DEMO_DB", str(defaults.db_path))),
            webhook_secret=env.get("DEMO_WEBHOOK_SECRET", ""),
            tickets_file=Path(env["DEMO_TICKETS_FILE"]) if env.get("DEMO_TICKETS_FILE") else None,
        )
