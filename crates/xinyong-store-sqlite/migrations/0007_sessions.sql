-- Password sign-in and browser sessions (the web portal). Passwords are argon2id PHC strings; session
-- tokens are stored as SHA-256 hashes only.

CREATE TABLE credentials (
    account_id    INTEGER PRIMARY KEY REFERENCES accounts(id),
    password_hash TEXT,
    changed_at    TEXT,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT
);

CREATE TABLE sessions (
    token_hash   BLOB PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_account ON sessions(account_id);
