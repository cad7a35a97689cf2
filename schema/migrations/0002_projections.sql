-- Projections: tables derived only from the event log, rebuilt from zero by `shiplog rebuild`.
-- They are written in the same transaction as the events they fold, with the checkpoint, so
-- they never lag behind or run ahead of the log. All times are µs since the Unix epoch.
-- They name events by id, never by position, so the same events appended in any order give
-- the same rows.

-- How far the projections have folded the log, and per stream, where its fold stands.
CREATE TABLE projection_checkpoint (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL
) STRICT;

-- The last event folded into a stream's projection, as its sort key (time, rank, event id):
-- an event that sorts before it arrived late and makes the stream fold again from zero.
CREATE TABLE projection_streams (
    stream_id   INTEGER PRIMARY KEY,
    last_time   INTEGER NOT NULL,
    last_rank   INTEGER NOT NULL,
    last_id     TEXT NOT NULL,
    state       BLOB                         -- the fold's state, for streams that need one
) STRICT;

-- Task-definition revisions (stream taskdef/FAMILY).
CREATE TABLE taskdefs (
    family          TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    status          TEXT NOT NULL,          -- ACTIVE or INACTIVE
    status_time     INTEGER NOT NULL,       -- the sort key (time, rank) of the event that stated it
    status_rank     INTEGER NOT NULL,
    registered_at   INTEGER,
    registered_by   TEXT,
    deregistered_at INTEGER,
    deregistered_by TEXT,
    cpu             INTEGER,
    memory          INTEGER,
    defined_at      INTEGER,                -- time of the event that defined it (NULL: only named so far)
    event_id        TEXT NOT NULL,          -- the event that defined it (its data is the definition), or first named it
    PRIMARY KEY (family, revision)
) STRICT, WITHOUT ROWID;

CREATE TABLE taskdef_containers (
    family     TEXT NOT NULL,
    revision   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    image      TEXT,
    registry   TEXT,
    repository TEXT,
    tag        TEXT,
    digest     TEXT,                        -- when the image is pinned by digest
    PRIMARY KEY (family, revision, name)
) STRICT, WITHOUT ROWID;
CREATE INDEX taskdef_containers_by_image ON taskdef_containers (repository, tag);
CREATE INDEX taskdef_containers_by_digest ON taskdef_containers (digest);

-- Every time a tag was pointed at a digest (or removed) in an image repository (stream
-- image/REPOSITORY). The timeline is read with "the latest assignment at or before T".
CREATE TABLE tag_assignments (
    repository TEXT NOT NULL,
    tag        TEXT NOT NULL,
    time       INTEGER NOT NULL,
    event_id   TEXT NOT NULL,               -- ties at the same time are ordered by event id
    digest     TEXT,                        -- NULL: the tag was deleted
    source     TEXT NOT NULL,               -- pushed, observed (a listing), deleted
    PRIMARY KEY (repository, tag, time, event_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX tag_assignments_by_digest ON tag_assignments (digest);
CREATE INDEX tag_assignments_by_tag ON tag_assignments (tag);

-- Digests deleted from a repository (a delete naming no tag removes every tag on the digest).
CREATE TABLE image_deletions (
    repository TEXT NOT NULL,
    digest     TEXT NOT NULL,
    time       INTEGER NOT NULL,
    PRIMARY KEY (repository, digest, time)
) STRICT, WITHOUT ROWID;

-- The digests known in each repository, and the commit each was built from when an event said so.
CREATE TABLE images (
    repository   TEXT NOT NULL,
    digest       TEXT NOT NULL,
    registry     TEXT,
    first_seen   INTEGER NOT NULL,
    commit_sha   TEXT,                      -- stated by the event that pushed it (explicit link)
    commit_time  INTEGER,                   -- time of that event (the earliest statement wins)
    run_id       TEXT,                      -- the CI run that pushed it
    PRIMARY KEY (repository, digest)
) STRICT, WITHOUT ROWID;
CREATE INDEX images_by_digest ON images (digest);
CREATE INDEX images_by_commit ON images (commit_sha);

-- Git (stream repo/OWNER/NAME): commits as pushes reported them, pushes, CI runs.
CREATE TABLE commits (
    repository TEXT NOT NULL,
    sha        TEXT NOT NULL,
    time       INTEGER,                     -- the commit's own timestamp
    author     TEXT,
    message    TEXT,
    pushed_at  INTEGER NOT NULL,            -- the earliest push that carried it
    ref        TEXT,
    PRIMARY KEY (repository, sha)
) STRICT, WITHOUT ROWID;
CREATE INDEX commits_by_sha ON commits (sha);

CREATE TABLE pushes (
    repository TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    ref        TEXT NOT NULL,
    before_sha TEXT,
    after_sha  TEXT,
    time       INTEGER NOT NULL,
    actor      TEXT,
    commits    TEXT NOT NULL,               -- JSON array of the shas it brought, oldest first
    PRIMARY KEY (repository, event_id)
) STRICT, WITHOUT ROWID;
-- On after_sha alone: SQLite prefers the primary key over (repository, after_sha) and then scans
-- every push of the repository (measured: 0.8 ms per lookup at 64k pushes).
CREATE INDEX pushes_by_after ON pushes (after_sha);

CREATE TABLE builds (
    repository   TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    workflow     TEXT,
    commit_sha   TEXT,
    branch       TEXT,
    event        TEXT,
    status       TEXT NOT NULL,             -- requested, in_progress, completed
    conclusion   TEXT,
    requested_at INTEGER,
    started_at   INTEGER,
    finished_at  INTEGER,
    url          TEXT,
    actor        TEXT,
    state_time   INTEGER NOT NULL,          -- the sort key of the event that set status
    state_rank   INTEGER NOT NULL,
    PRIMARY KEY (repository, run_id, attempt)
) STRICT, WITHOUT ROWID;
CREATE INDEX builds_by_commit ON builds (commit_sha);

-- Service deployments (stream service/CLUSTER/SERVICE), one row per deployment: the ECS
-- deployment id when known, else the id of the event that revealed it.
CREATE TABLE deployments (
    cluster            TEXT NOT NULL,
    service            TEXT NOT NULL,
    key                TEXT NOT NULL,
    deployment_id      TEXT,
    family             TEXT,
    revision           INTEGER,
    taskdef_inferred   INTEGER NOT NULL DEFAULT 0,  -- the revision was inferred (a rollback's target)
    started_at         INTEGER,
    finished_at        INTEGER,
    status             TEXT NOT NULL,
    status_history     TEXT NOT NULL,       -- JSON [[time, status], …]
    actor              TEXT,
    reason             TEXT,
    trigger            TEXT,
    rollback           INTEGER NOT NULL DEFAULT 0,
    rollback_to        TEXT,                -- the deployment a rollback returned to
    rolled_back_by     TEXT,                -- the deployment that rolled this one back
    rollback_request   TEXT,                -- the rollback.requested event it carried out
    desired_count      INTEGER,
    commit_sha         TEXT,                -- stated by an event of the deployment
    images             TEXT NOT NULL,       -- JSON {container: {digest, time}} reported by its tasks
    PRIMARY KEY (cluster, service, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX deployments_by_revision ON deployments (family, revision);
CREATE INDEX deployments_by_id ON deployments (deployment_id);
CREATE INDEX deployments_by_commit ON deployments (commit_sha);
CREATE INDEX deployments_by_start ON deployments (started_at);
CREATE INDEX deployments_by_rollback_target ON deployments (cluster, service, rollback_to);

-- The digests each deployment's tasks reported, for finding the deployments that ran a digest.
CREATE TABLE deployment_digests (
    cluster  TEXT NOT NULL,
    service  TEXT NOT NULL,
    key      TEXT NOT NULL,
    digest   TEXT NOT NULL,
    PRIMARY KEY (cluster, service, key, digest)
) STRICT, WITHOUT ROWID;
CREATE INDEX deployment_digests_by_digest ON deployment_digests (digest);

-- What each service showed, from each moment it changed: `where --as-of T` reads the row with
-- the latest valid_from at or before T.
CREATE TABLE service_states (
    cluster        TEXT NOT NULL,
    service        TEXT NOT NULL,
    valid_from     INTEGER NOT NULL,
    deployment_key TEXT,                    -- NULL: no deployment known (or the service removed)
    family         TEXT,
    revision       INTEGER,
    status         TEXT,
    deployed_at    INTEGER,
    deployed_by    TEXT,
    desired_count  INTEGER,
    running_count  INTEGER,
    images         TEXT NOT NULL,           -- JSON {container: digest} known at that moment
    removed        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (cluster, service, valid_from)
) STRICT, WITHOUT ROWID;
CREATE INDEX service_states_by_deployment ON service_states (cluster, service, deployment_key, valid_from);

-- Revisions vetoed as rollback targets (revision.marked_bad / unmarked_bad).
CREATE TABLE bad_revisions (
    cluster   TEXT NOT NULL,
    service   TEXT NOT NULL,
    family    TEXT NOT NULL,
    revision  INTEGER NOT NULL,
    reason    TEXT,
    actor     TEXT,
    time      INTEGER NOT NULL,
    PRIMARY KEY (cluster, service, family, revision)
) STRICT, WITHOUT ROWID;
