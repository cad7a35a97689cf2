-- Ed25519 signatures over checkpoints, made with a key kept outside the database (`shiplog keygen`,
-- then --signing-key or $SHIPLOG_SIGNING_KEY_FILE on the commands that append). Forging or
-- rewriting the log then needs that key, not just write access to the file: `verify --public-key`
-- rejects every event after the last checkpoint with a valid signature. A checkpoint with no row
-- here is unsigned (appended without a key, or before this migration).
CREATE TABLE checkpoint_signatures (
    position   INTEGER PRIMARY KEY REFERENCES checkpoints(position),
    public_key BLOB NOT NULL,               -- the signer's Ed25519 public key (32 bytes)
    signature  BLOB NOT NULL                -- over "shiplog-checkpoint-v1" 0x00, then position, chain
                                            -- and recorded_at of the checkpoint (integers as 8 bytes,
                                            -- big-endian)
) STRICT;

CREATE TRIGGER checkpoint_signatures_refuse_update BEFORE UPDATE ON checkpoint_signatures
BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only (UPDATE on checkpoint_signatures refused)'); END;
CREATE TRIGGER checkpoint_signatures_refuse_delete BEFORE DELETE ON checkpoint_signatures
BEGIN SELECT RAISE(ABORT, 'shiplog: the event log is append-only (DELETE on checkpoint_signatures refused)'); END;
