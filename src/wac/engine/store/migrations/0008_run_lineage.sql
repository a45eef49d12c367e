-- wac store schema, version 8: changing code under live runs (issue 14).
-- One row per root run tied to a deployed version or started from another run. A run with no
-- row is on the version whose bundle it pins (found by hash) and came from nowhere.
CREATE TABLE run_lineage (
  job_id         TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
  script_hash    TEXT,     -- the deployed version the run is on now
  migrated_from  TEXT,     -- the version it was on before its last `migrate`
  migrated_at    REAL,
  rerun_of       TEXT,     -- the run this one reruns
  rerun_from     TEXT,     -- the first key it did not reuse (NULL: it reused every done step)
  reused         INTEGER   -- how many steps it reused
) WITHOUT ROWID;
