-- xinyong on PostgreSQL, schema version 1: what the embedded store holds, laid out to distribute.
--
-- Distribution (docs/scale.md): every large table carries the subject id as its first primary-key
-- column, so on Citus it is the distribution column and a profile (subject, names, records, versions,
-- authorisations) is read from one shard. Identifiers reach the subject id through `subject_keys`
-- (distributed by the identifier) and source keys reach their record through `record_keys`
-- (distributed by the source key): unique constraints on Citus must contain the distribution column,
-- so uniqueness of an identifier or of (item, source key) lives in those lookup tables.
--
-- Personal data never appears in clear: resident IDs are in subjects.rid_enc (AEAD) and found by the
-- keyed hash in subject_keys / subjects.rid_hash; masked record fields are in records.secret and
-- record_versions.secret (AEAD). The keys are files outside the database.
--
-- Timestamps are RFC 3339 text with their offset, exactly as the embedded store keeps them; dates are
-- `date`. Text that is sorted on is COLLATE "C": the order is the bytes' order, as in SQLite, whatever
-- the database's locale.

CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- Reference tables (small, replicated to every node on Citus).
CREATE TABLE units (
    code       text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL
);

CREATE TABLE unit_items (
    unit text COLLATE "C" NOT NULL REFERENCES units(code),
    item text COLLATE "C" NOT NULL,
    PRIMARY KEY (unit, item)
);

CREATE TABLE catalog_items (
    code       text COLLATE "C" NOT NULL,
    version    integer NOT NULL,
    definition text NOT NULL,
    created_at text NOT NULL,
    PRIMARY KEY (code, version)
);

-- Subjects, distributed by id. `grams` is the name index: the start token and the character bigrams of
-- the name's key (xinyong_store::search::names) with their positions, so a phrase query is an exact
-- substring match; `rank_len` orders hits.
CREATE SEQUENCE subject_ids;
CREATE TABLE subjects (
    id         bigint PRIMARY KEY,
    kind       text NOT NULL,
    name       text NOT NULL,
    uscc       text COLLATE "C",
    org_code   text COLLATE "C",
    rid_hash   bytea,
    rid_enc    bytea,
    rank_len   smallint NOT NULL,
    grams      tsvector NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL
);
CREATE INDEX subjects_grams ON subjects USING gin (grams);

-- Identifier → subject, distributed by the identifier: `u:` USCC, `o:` organisation code (several
-- subjects may carry one), `r:` hex of the resident ID's keyed hash.
CREATE TABLE subject_keys (
    key        text COLLATE "C" NOT NULL,
    subject_id bigint NOT NULL,
    PRIMARY KEY (key, subject_id)
);
CREATE UNIQUE INDEX subject_keys_unique ON subject_keys (key) WHERE key NOT LIKE 'o:%';

CREATE TABLE subject_names (
    subject_id bigint NOT NULL,
    name       text COLLATE "C" NOT NULL,
    first_seen text COLLATE "C" NOT NULL,
    PRIMARY KEY (subject_id, name)
);

-- Records, distributed by subject. subject_id 0 means "not linked to a subject" (rows whose party has
-- no identifier the platform knows); those share one shard.
CREATE SEQUENCE record_ids;
CREATE TABLE records (
    subject_id   bigint NOT NULL,
    id           bigint NOT NULL,
    item         text COLLATE "C" NOT NULL,
    source_key   text NOT NULL,
    unit         text NOT NULL,
    item_version integer NOT NULL,
    version      integer NOT NULL,
    status       text NOT NULL DEFAULT 'active',
    record_date  date NOT NULL,
    end_date     date,
    severity     text NOT NULL,
    published    boolean NOT NULL,
    public_until date,
    fields       text NOT NULL,
    secret       bytea,
    content_hash bytea NOT NULL,
    batch_id     text NOT NULL,
    created_at   text NOT NULL,
    updated_at   text NOT NULL,
    PRIMARY KEY (subject_id, id)
);
CREATE INDEX records_id ON records (id);
-- Publication lists: newest first per item.
CREATE INDEX records_item_date ON records (item, record_date);

-- (item, source key) → the record, distributed by the source key: the ingest path's lookup (byte-order
-- collation: its index compares bytes instead of calling the locale's strcoll on every probe).
CREATE TABLE record_keys (
    item         text COLLATE "C" NOT NULL,
    source_key   text COLLATE "C" NOT NULL,
    subject_id   bigint NOT NULL,
    record_id    bigint NOT NULL,
    content_hash bytea NOT NULL,
    PRIMARY KEY (source_key, item)
);

-- Superseded versions, beside the record's subject at the time.
CREATE TABLE record_versions (
    subject_id    bigint NOT NULL,
    record_id     bigint NOT NULL,
    version       integer NOT NULL,
    fields        text NOT NULL,
    secret        bytea,
    content_hash  bytea NOT NULL,
    batch_id      text NOT NULL,
    superseded_at text NOT NULL,
    PRIMARY KEY (subject_id, record_id, version)
);
CREATE INDEX record_versions_record ON record_versions (record_id, version);

CREATE TABLE batches (
    id             text COLLATE "C" PRIMARY KEY,
    unit           text COLLATE "C" NOT NULL,
    item           text NOT NULL,
    item_version   integer NOT NULL,
    status         text NOT NULL,
    format         text NOT NULL,
    encoding       text NOT NULL,
    file_name      text,
    all_or_nothing boolean NOT NULL,
    rows           bigint NOT NULL,
    accepted       bigint NOT NULL,
    rejected       bigint NOT NULL,
    created        bigint NOT NULL,
    updated        bigint NOT NULL,
    unchanged      bigint NOT NULL,
    linked         bigint NOT NULL,
    started_at     text NOT NULL,
    finished_at    text COLLATE "C" NOT NULL
);
CREATE INDEX batches_finished ON batches (finished_at);

-- kind: 'error' (a rejected row) or 'warning' (e.g. an unknown column). Distributed by batch.
CREATE TABLE batch_issues (
    batch_id text NOT NULL,
    seq      bigint NOT NULL,
    kind     text NOT NULL,
    row      bigint NOT NULL,
    field    text,
    code     text NOT NULL,
    message  text NOT NULL,
    PRIMARY KEY (batch_id, seq)
);

-- Accounts: a reference table. API tokens stored as SHA-256 hashes only.
CREATE TABLE accounts (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    unit       text REFERENCES units(code),
    role       text NOT NULL,
    subject_id bigint,
    token_hash bytea NOT NULL UNIQUE,
    disabled   boolean NOT NULL DEFAULT false,
    created_at text NOT NULL
);

-- A subject's authorisations of market institutions, distributed by subject (read with its profile).
CREATE SEQUENCE authorisation_ids;
CREATE TABLE authorisations (
    subject_id   bigint NOT NULL,
    id           bigint NOT NULL DEFAULT nextval('authorisation_ids'),
    grantee_unit text NOT NULL,
    scope        text NOT NULL,
    granted_at   text NOT NULL,
    expires_at   text NOT NULL,
    revoked_at   text,
    PRIMARY KEY (subject_id, id)
);
CREATE INDEX authorisations_id ON authorisations (id);
