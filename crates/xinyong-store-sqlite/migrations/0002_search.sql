-- Subject search by name (src/search.rs): a contentless FTS5 index whose rowid is the subject id and whose
-- one column holds the character bigrams of the subject's current name, computed by the application.
-- contentless_delete=1 (SQLite 3.43+) lets a rename be one INSERT OR REPLACE; the `ascii` tokenizer keeps
-- every non-ASCII character a token character, so each bigram is exactly one token.
CREATE VIRTUAL TABLE subject_names_fts USING fts5(
    grams,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii'
);

-- Subjects stored before this migration have no index entries yet; SQL cannot compute the grams (NFKC),
-- so the store fills them in Rust on first use and then removes this flag.
INSERT INTO meta (key, value) SELECT 'search_index', 'backfill' WHERE EXISTS (SELECT 1 FROM subjects);
