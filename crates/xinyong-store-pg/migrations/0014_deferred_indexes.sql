-- Indexes a first load leaves out until its last file is in (src/initial_load.rs), each with the
-- definition PostgreSQL printed for it (`pg_indexes.indexdef`). A row is removed in the transaction
-- that builds its index again: at the end of the load, or when the store next opens after a load that
-- stopped in between.
CREATE TABLE deferred_indexes (
    name       text PRIMARY KEY,
    definition text NOT NULL
);
