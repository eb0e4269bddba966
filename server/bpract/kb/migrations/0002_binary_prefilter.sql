-- Vector search in two steps: a scan of 1-bit vectors (the sign of each component, 48 bytes
-- a chunk at 384 dimensions) held in memory picks a few hundred candidates by Hamming
-- distance, then their int8 vectors are re-scored exactly.  An ordinary table replaces
-- kb_vec: its exhaustive int8 scan was the slowest part of a search, a vec0 bit[] KNN slows
-- down with k (~120 ms for 400 candidates at 100k chunks), and point reads are slow there.

CREATE TABLE kb_vectors (
    chunk_id   INTEGER PRIMARY KEY,          -- kb_chunks.id
    site_id    INTEGER NOT NULL,
    bits       BLOB NOT NULL,                -- sign bits, vec_quantize_binary's layout
    embedding  BLOB NOT NULL                 -- int8[dim], each vector scaled by its largest component
);
-- Covers the load of one site's bits without reading the int8 vectors.
CREATE INDEX kb_vectors_site_bits ON kb_vectors (site_id, chunk_id, bits);

-- Bumped by every change to a site's vectors: a reader's in-memory bits are current while
-- the epoch they were loaded at is.
CREATE TABLE kb_vector_epochs (
    site_id  INTEGER PRIMARY KEY,
    epoch    INTEGER NOT NULL
);

INSERT INTO kb_vectors (chunk_id, site_id, bits, embedding)
    SELECT chunk_id, site_id, vec_quantize_binary(vec_int8(embedding)), embedding FROM kb_vec
    WHERE (SELECT dim FROM kb_index WHERE id = 1) % 8 = 0;
INSERT INTO kb_vector_epochs (site_id, epoch) SELECT DISTINCT site_id, 1 FROM kb_vectors;
-- vec_quantize_binary takes whole bytes: vectors of a width that is not a multiple of 8
-- (no common model has one) are forgotten, and `bpract kb reindex` embeds them again.
UPDATE kb_chunks SET embedded_with = NULL
    WHERE (SELECT dim FROM kb_index WHERE id = 1) % 8 != 0;
DELETE FROM kb_index WHERE dim % 8 != 0;

DROP TRIGGER kb_chunks_delete;
DROP TABLE kb_vec;

CREATE TRIGGER kb_chunks_delete AFTER DELETE ON kb_chunks BEGIN
    DELETE FROM kb_fts WHERE rowid = old.id;
    DELETE FROM kb_vectors WHERE chunk_id = old.id;
END;

CREATE TRIGGER kb_vectors_insert AFTER INSERT ON kb_vectors BEGIN
    INSERT INTO kb_vector_epochs (site_id, epoch) VALUES (new.site_id, 1)
        ON CONFLICT (site_id) DO UPDATE SET epoch = epoch + 1;
END;
CREATE TRIGGER kb_vectors_update AFTER UPDATE ON kb_vectors BEGIN
    INSERT INTO kb_vector_epochs (site_id, epoch) VALUES (new.site_id, 1)
        ON CONFLICT (site_id) DO UPDATE SET epoch = epoch + 1;
END;
CREATE TRIGGER kb_vectors_delete AFTER DELETE ON kb_vectors BEGIN
    UPDATE kb_vector_epochs SET epoch = epoch + 1 WHERE site_id = old.site_id;
END;

-- How many chunks hold each indexed term: BM25 leaves a question's commonest words to the
-- vector side when scoring them all would read too many rows (index.bm25).
CREATE VIRTUAL TABLE kb_fts_terms USING fts5vocab (kb_fts, row);
