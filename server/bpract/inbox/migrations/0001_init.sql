-- The inbox: the people who answer visitors (agents), their sign-in sessions, the failed
-- sign-ins that lock an address out, and the server's secret for the forms' CSRF tokens.
CREATE TABLE inbox_agents (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    email          TEXT NOT NULL,               -- lower-cased
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,               -- Argon2id, PHC string
    role           TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'supervisor')),
    departments    TEXT NOT NULL DEFAULT '["support"]',  -- JSON list of names
    created_at     TEXT NOT NULL,
    disabled_at    TEXT,                        -- NULL: may sign in
    UNIQUE (org_id, email)
);
CREATE INDEX inbox_agents_email ON inbox_agents (email);

-- A session is known by the sha256 of its cookie, never by the cookie itself.
CREATE TABLE inbox_sessions (
    id_hash     TEXT PRIMARY KEY,
    agent_id    INTEGER NOT NULL REFERENCES inbox_agents(id) ON DELETE CASCADE,
    created_ms  INTEGER NOT NULL,
    seen_ms     INTEGER NOT NULL,               -- last request: the idle timeout counts from it
    expires_ms  INTEGER NOT NULL                -- the absolute end, whatever the activity
);
CREATE INDEX inbox_sessions_agent ON inbox_sessions (agent_id);

-- Failed sign-ins per address (known or not), and the lockout they lead to.
CREATE TABLE inbox_sign_in_failures (
    email            TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL,
    first_ms         INTEGER NOT NULL,          -- the first failure still counted
    locked_until_ms  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE inbox_secrets (
    name    TEXT PRIMARY KEY,
    secret  TEXT NOT NULL
);
