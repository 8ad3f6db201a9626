-- Push of list changes (xinyong_store::outbox): subscriptions of units to lists, the changes already
-- fanned out, and the deliveries (the outbox). Same content as the embedded store's 0006_outbox.sql.
-- Attempt times are Unix milliseconds so that "due" is a plain comparison.
--
-- Distribution (docs/scale.md): all three are small (a row per subscription, per change, per change ×
-- subscription × part) and are reference tables on Citus; the pump reads the distributed batches,
-- records and cases and writes here in one transaction.

CREATE TABLE subscriptions (
    id         bigserial PRIMARY KEY,
    unit       text COLLATE "C" NOT NULL,
    url        text NOT NULL,
    secret     text NOT NULL,
    lists      text NOT NULL,
    created_at text NOT NULL
);
CREATE INDEX subscriptions_unit ON subscriptions (unit);

CREATE TABLE fanned_out (
    change text COLLATE "C" PRIMARY KEY,
    at     text NOT NULL
);

CREATE TABLE deliveries (
    id              bigserial PRIMARY KEY,
    subscription    bigint NOT NULL REFERENCES subscriptions(id),
    change          text COLLATE "C" NOT NULL,
    payload         text NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_ms bigint,
    last_error      text,
    created_at      text NOT NULL,
    delivered_at    text
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_ms) WHERE status = 'pending';
CREATE INDEX deliveries_subscription ON deliveries (subscription, id);
