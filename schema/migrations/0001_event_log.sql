-- The append-only event log. Nothing in these tables is ever updated or deleted:
-- the triggers at the end refuse it, and `shiplog verify` detects it when they are bypassed.

-- Which migrations this database has applied (PRAGMA user_version holds the count too).
CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    sha256     TEXT NOT NULL,               -- of the migration file as applied
    applied_at INTEGER NOT NULL             -- µs since the Unix epoch
) STRICT;

-- Stream names, stored once; events refer to them by a small integer so the
-- (stream, version) index stays narrow.
CREATE TABLE streams (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
) STRICT;

-- LZ4 dictionaries, immutable and versioned: a row's dictionary_id names the one it
-- was compressed with, so training a new dictionary never makes old rows unreadable.
CREATE TABLE dictionaries (
    id           INTEGER PRIMARY KEY,
    sha256       BLOB NOT NULL,
    trained_at   INTEGER NOT NULL,          -- µs since the Unix epoch
    sample_count INTEGER NOT NULL,
    bytes        BLOB NOT NULL
) STRICT;

-- The original source documents, verbatim but for redacted secrets, one LZ4 block each.
-- One document may yield several events (a describe-services snapshot of three services).
-- A body is compressed against its dictionary followed by the data of its first event, so
-- what the two share (ids, digests, ARNs) is stored once.
CREATE TABLE documents (
    id             INTEGER PRIMARY KEY,
    source         TEXT NOT NULL,           -- the adapter that read it: native, github, …
    codec          INTEGER NOT NULL CHECK (codec IN (0, 1, 2)),  -- raw, lz4, lz4 + dictionary
    dictionary_id  INTEGER REFERENCES dictionaries(id),
    first_position INTEGER NOT NULL,        -- the event whose data the body was compressed against
    raw_length     INTEGER NOT NULL,
    sha256         BLOB NOT NULL,           -- of the uncompressed bytes
    body           BLOB NOT NULL
) STRICT;

CREATE TABLE events (
    position       INTEGER PRIMARY KEY,     -- global order of appends, gap-free
    event_id       TEXT NOT NULL UNIQUE,    -- the deduplication key
    type           TEXT NOT NULL,
    stream_id      INTEGER NOT NULL REFERENCES streams(id),
    stream_version INTEGER NOT NULL,        -- 1, 2, 3… within the stream
    event_time     INTEGER NOT NULL,        -- µs since the epoch, when it happened at the source
    recorded_at    INTEGER NOT NULL,        -- µs since the epoch, when shiplog appended it
    document_id    INTEGER NOT NULL REFERENCES documents(id) DEFERRABLE INITIALLY DEFERRED,
    cluster        TEXT,                    -- copies of data fields that queries filter on
    service        TEXT,
    commit_sha     TEXT,
    actor          TEXT,
    data           BLOB NOT NULL,           -- the normalized fields, canonical JSON, one LZ4 block
                                            -- (with the document's dictionary when it has one)
    data_length    INTEGER NOT NULL,        -- of the uncompressed JSON
    chain          BLOB NOT NULL            -- SHA-256 over the previous chain hash and this event
) STRICT;

CREATE UNIQUE INDEX events_by_stream ON events (stream_id, stream_version);
CREATE INDEX events_by_time ON events (event_time);

-- The chain head after each append transaction (and every 1024 events within one), so a
-- tail re-hashed by someone with write access to the file no longer matches.
CREATE TABLE checkpoints (
    position    INTEGER PRIMARY KEY,
    chain       BLOB NOT NULL,
    recorded_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only (UPDATE on events refused)'); END;
CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only (DELETE on events refused)'); END;
CREATE TRIGGER documents_refuse_update BEFORE UPDATE ON documents
BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only (UPDATE on documents refused)'); END;
CREATE TRIGGER documents_refuse_delete BEFORE DELETE ON documents
BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only (DELETE on documents refused)'); END;
CREATE TRIGGER streams_refuse_update BEFORE UPDATE ON streams
BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only (UPDATE on streams refused)'); END;
CREATE TRIGGER streams_refuse_delete BEFORE DELETE ON streams
BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only (DELETE on streams refused)'); END;
CREATE TRIGGER dictionaries_refuse_update BEFORE UPDATE ON dictionaries
BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only (UPDATE on dictionaries refused)'); END;
CREATE TRIGGER dictionaries_refuse_delete BEFORE DELETE ON dictionaries
BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only (DELETE on dictionaries refused)'); END;
CREATE TRIGGER checkpoints_refuse_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only (UPDATE on checkpoints refused)'); END;
CREATE TRIGGER checkpoints_refuse_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only (DELETE on checkpoints refused)'); END;
