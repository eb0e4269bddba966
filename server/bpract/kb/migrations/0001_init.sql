-- Knowledge base: documents, heading-aware chunks, BM25 (FTS5) and vectors (sqlite-vec).

CREATE TABLE kb_documents (
    id            INTEGER PRIMARY KEY,
    site_id       INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    source        TEXT NOT NULL,              -- absolute file path or URL: the document's identity
    origin        TEXT NOT NULL,              -- the `kb add` target it came from (folder, sitemap, crawl root)
    title         TEXT NOT NULL,
    url           TEXT,                       -- where a visitor can read it (a URL, or NULL for a local file)
    content_hash  TEXT NOT NULL,              -- sha256 of the parsed document: unchanged ones are skipped
    updated_at    TEXT,                       -- ISO-8601 last-updated date from the source, if it gave one
    ingested_ms   INTEGER NOT NULL,
    UNIQUE (site_id, source)
);
CREATE INDEX kb_documents_origin ON kb_documents (site_id, origin);

CREATE TABLE kb_chunks (
    id             INTEGER PRIMARY KEY,
    site_id        INTEGER NOT NULL,
    doc_id         INTEGER NOT NULL REFERENCES kb_documents(id) ON DELETE CASCADE,
    ord            INTEGER NOT NULL,          -- position in the document
    section        TEXT NOT NULL,             -- heading path, e.g. "Returns > Refund times"
    text           TEXT NOT NULL,
    embedded_with  TEXT                       -- model whose vector for this chunk is in kb_vec; NULL = none yet
);
CREATE INDEX kb_chunks_doc ON kb_chunks (doc_id, ord);
CREATE INDEX kb_chunks_pending ON kb_chunks (embedded_with);

-- rowid = kb_chunks.id; `site` holds the token "s<site_id>" so the tenant filter is part of the
-- MATCH (an index lookup), not a read of every matching row (4x slower at 100k chunks).
CREATE VIRTUAL TABLE kb_fts USING fts5 (
    title, section, text, site,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- int8 vectors, cosine distance, one partition per site (KNN never crosses tenants).
-- Re-created with another dimension when the embedding model changes.
CREATE VIRTUAL TABLE kb_vec USING vec0 (
    chunk_id   INTEGER PRIMARY KEY,
    site_id    INTEGER PARTITION KEY,
    embedding  int8[384] distance_metric=cosine
);

-- The model that built kb_vec (one row).
CREATE TABLE kb_index (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    model  TEXT NOT NULL,
    dim    INTEGER NOT NULL
);

CREATE TRIGGER kb_chunks_delete AFTER DELETE ON kb_chunks BEGIN
    DELETE FROM kb_fts WHERE rowid = old.id;
    DELETE FROM kb_vec WHERE chunk_id = old.id;
END;

-- Questions the knowledge base could not answer (filled by the chat), for `bpract kb audit`.
CREATE TABLE kb_unanswered (
    id          INTEGER PRIMARY KEY,
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    question    TEXT NOT NULL,
    asked_ms    INTEGER NOT NULL,
    best_score  REAL                          -- confidence of the best passage found, if any
);
CREATE INDEX kb_unanswered_site ON kb_unanswered (site_id, asked_ms);
