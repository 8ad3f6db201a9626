-- Subject search by name (src/search.rs): a contentless FTS5 index of the character bigrams of each
-- subject's current name, computed by the application. The rowid is the subject id shifted left 7 bits,
-- with the name's length and a natural-person flag in the low bits (src/search.rs, `index_key`).
-- contentless_delete=1 (SQLite 3.43+) deletes an entry by rowid alone; the `ascii` tokenizer keeps every
-- non-ASCII character a token character, so each bigram is exactly one token.
CREATE VIRTUAL TABLE subject_names_fts USING fts5(
    grams,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii'
);
-- 16 MB of pending terms before a flush (default 1 MB): a large first load writes fewer, larger
-- segments and merges less (1 M names: 5.8 s instead of 7.2 s of index work), same query speed.
INSERT INTO subject_names_fts (subject_names_fts, rank) VALUES ('hashsize', 16777216);

-- Subjects stored before this migration have no index entries yet; SQL cannot compute the grams (NFKC),
-- so the store fills them in Rust on first use and then removes this flag.
INSERT INTO meta (key, value) SELECT 'search_index', 'backfill' WHERE EXISTS (SELECT 1 FROM subjects);
