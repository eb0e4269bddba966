-- Organisations own sites; admin tokens belong to one, with a role, optional sites, an expiry.
-- A database made before organisations existed keeps working: its sites go to a "default"
-- organisation and its tokens become that organisation's owner tokens.
CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    created_at TEXT NOT NULL
);

INSERT INTO organisations (name, created_at)
SELECT 'default', COALESCE(
    (SELECT MIN(created_at) FROM sites), (SELECT MIN(created_at) FROM admin_tokens))
WHERE EXISTS (SELECT 1 FROM sites) OR EXISTS (SELECT 1 FROM admin_tokens);

-- Nullable only because a column added to existing rows cannot be NOT NULL without a
-- default; every site made by this release names its organisation.
ALTER TABLE sites ADD COLUMN org_id INTEGER REFERENCES organisations(id);
UPDATE sites SET org_id = (SELECT id FROM organisations WHERE name = 'default');
CREATE INDEX sites_org ON sites(org_id);

ALTER TABLE admin_tokens ADD COLUMN org_id INTEGER REFERENCES organisations(id);
ALTER TABLE admin_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'owner'
    CHECK (role IN ('owner', 'marketer', 'agent', 'read-only'));
ALTER TABLE admin_tokens ADD COLUMN expires_at TEXT;  -- ISO 8601 UTC; NULL: never
ALTER TABLE admin_tokens ADD COLUMN revoked_at TEXT;
-- 1: the token reaches only the sites listed in admin_token_sites (none left: no site).
ALTER TABLE admin_tokens ADD COLUMN site_limited INTEGER NOT NULL DEFAULT 0;
UPDATE admin_tokens SET org_id = (SELECT id FROM organisations WHERE name = 'default');

-- The sites a token with site_limited = 1 may reach.
CREATE TABLE admin_token_sites (
    token_id INTEGER NOT NULL REFERENCES admin_tokens(id) ON DELETE CASCADE,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    PRIMARY KEY (token_id, site_id)
);
