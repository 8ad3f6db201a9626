-- Failed sign-ins per client address: the server's throttle against one address trying passwords
-- across many accounts, shared by every process on this data folder. Times are microseconds since
-- the Unix epoch, so that SQL compares them (RFC 3339 text with offsets would not compare as text).
CREATE TABLE login_failures (
    address TEXT NOT NULL,
    at_us   INTEGER NOT NULL
);
CREATE INDEX login_failures_address ON login_failures (address, at_us);
CREATE INDEX login_failures_at ON login_failures (at_us);
