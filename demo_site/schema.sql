-- Northwind demo state: accounts, charges, refunds, orders and idempotency records.
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    plan TEXT,
    billing TEXT,
    status TEXT NOT NULL,
    member_since TEXT NOT NULL,
    renews_on TEXT,
    ends_on TEXT,
    paused_until TEXT,
    cancel_reason TEXT
);
CREATE TABLE IF NOT EXISTS charges (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    created TEXT NOT NULL,
    description TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    charge_id TEXT NOT NULL REFERENCES charges(id),
    amount_cents INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    status TEXT NOT NULL,
    placed_on TEXT NOT NULL,
    delivery_date TEXT,
    city TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS order_items (
    order_id TEXT NOT NULL REFERENCES orders(id),
    item_id TEXT NOT NULL,
    name TEXT NOT NULL,
    size TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    price_cents INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    body BLOB NOT NULL,
    created TEXT NOT NULL
);
