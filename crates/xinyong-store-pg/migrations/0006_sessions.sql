-- Password sign-in and browser sessions (the web portal). Small reference-style tables: on Citus they
-- stay on the coordinator (local tables), read once per request by the session's token hash.

CREATE TABLE credentials (
    account_id    bigint PRIMARY KEY REFERENCES accounts(id),
    password_hash text,
    changed_at    timestamptz,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until  timestamptz
);

CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts(id),
    csrf         text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);
