-- Push of list changes: subscriptions of units to lists, the changes already fanned out, and the
-- deliveries (the outbox). Attempt times are Unix milliseconds so that "due" is a plain comparison.
CREATE TABLE subscriptions (
    id         INTEGER PRIMARY KEY,
    unit       TEXT NOT NULL,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    lists      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX subscriptions_unit ON subscriptions(unit);

CREATE TABLE fanned_out (
    change TEXT PRIMARY KEY,
    at     TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    subscription    INTEGER NOT NULL REFERENCES subscriptions(id),
    change          TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_ms) WHERE status = 'pending';
CREATE INDEX deliveries_subscription ON deliveries(subscription, id);
