-- wac store schema, version 1. Applied by SqliteStore.migrate(); the version lives in
-- PRAGMA user_version. Times are seconds since the epoch on the store's clock (G4).

CREATE TABLE bundles (
  hash        TEXT PRIMARY KEY,
  files       TEXT NOT NULL,              -- JSON object: relative path -> file text
  created_at  REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE jobs (
  seq              INTEGER PRIMARY KEY,   -- creation order; tie-breaker for claims
  id               TEXT NOT NULL UNIQUE,  -- short time-ordered hex, typed by users
  root_id          TEXT NOT NULL,
  parent_id        TEXT REFERENCES jobs(id) ON DELETE CASCADE,
  parent_key       TEXT,
  status           TEXT NOT NULL,
  bundle_hash      TEXT NOT NULL,
  entry            TEXT NOT NULL,
  script_path      TEXT NOT NULL,
  name             TEXT NOT NULL,
  args             TEXT NOT NULL,
  executing_key    TEXT,
  options          TEXT NOT NULL,
  tag              TEXT NOT NULL,
  priority         INTEGER NOT NULL DEFAULT 0,
  attempt          INTEGER NOT NULL DEFAULT 0,
  rounds           INTEGER NOT NULL DEFAULT 0,
  pending          INTEGER NOT NULL DEFAULT 0,
  step_seq         INTEGER NOT NULL DEFAULT 0, -- last allocated steps.seq of this job
  created_at       REAL NOT NULL,
  started_at       REAL,
  finished_at      REAL,
  scheduled_at     REAL NOT NULL,
  result           TEXT,
  error            TEXT,
  worker_id        TEXT,
  lease_until      REAL,
  lost_count       INTEGER NOT NULL DEFAULT 0, -- consecutive lease expiries
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  cancel_reason    TEXT,
  preview          INTEGER NOT NULL DEFAULT 0,
  suspended_key    TEXT,
  idempotency_key  TEXT UNIQUE,
  secret           TEXT NOT NULL,
  conc_key         TEXT,
  conc_limit       INTEGER,
  conc_window      REAL,
  cache_key        TEXT,
  cache_ttl        REAL
);
CREATE INDEX jobs_by_tag ON jobs(status, tag, priority DESC, scheduled_at, seq);
CREATE INDEX jobs_by_priority ON jobs(status, priority DESC, scheduled_at, seq);
CREATE INDEX jobs_by_parent ON jobs(parent_id, status, seq);
CREATE INDEX jobs_by_lease ON jobs(lease_until) WHERE status = 'running';

CREATE TABLE steps (
  job_id        TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  key           TEXT NOT NULL,
  seq           INTEGER NOT NULL,
  kind          TEXT NOT NULL,
  done          INTEGER NOT NULL DEFAULT 0,
  failed        INTEGER NOT NULL DEFAULT 0,
  value         TEXT,
  child_job_id  TEXT,
  started_at    REAL,
  finished_at   REAL,
  PRIMARY KEY (job_id, key)
) WITHOUT ROWID;

CREATE TABLE approvals (
  job_id       TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  key          TEXT NOT NULL,
  token_hash   TEXT NOT NULL,
  timeout_at   REAL,
  form         TEXT,
  created_at   REAL NOT NULL,
  resolved_at  REAL,
  PRIMARY KEY (job_id, key)
) WITHOUT ROWID;
CREATE INDEX approvals_due ON approvals(timeout_at) WHERE resolved_at IS NULL;

CREATE TABLE logs (
  job_id  TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  seq     INTEGER NOT NULL,
  ts      REAL NOT NULL,
  text    TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;

-- One row per job holding (or, with a time window, having held) a concurrency slot.
CREATE TABLE concurrency_slots (
  job_id      TEXT PRIMARY KEY,
  key         TEXT NOT NULL,
  started_at  REAL NOT NULL,
  window      REAL,
  live        INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE INDEX concurrency_slots_by_key ON concurrency_slots(key, live, started_at);

CREATE TABLE cache (
  key         TEXT PRIMARY KEY,
  result      TEXT NOT NULL,
  expires_at  REAL NOT NULL
) WITHOUT ROWID;
