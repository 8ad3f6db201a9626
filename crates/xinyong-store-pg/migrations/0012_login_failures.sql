-- Failed sign-ins per client address: the servers' throttle against one address trying passwords
-- across many accounts, counted here rather than in each server's memory so that servers behind one
-- load balancer count together. A small table: on Citus it stays on the coordinator (a local table).
CREATE TABLE login_failures (
    address text NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX login_failures_address ON login_failures (address, at);
CREATE INDEX login_failures_at ON login_failures (at);
