-- wac store schema, version 6: workspace objects the wmill client reads — variables, resources,
-- resource types and per-script state — and the progress a job reports.
-- `value` is JSON; a secret variable's value is ciphertext (wac.engine.secrets), never plain text.
-- `source` keeps the file a sync push read (ciphertext too for a secret), so a pull writes the
-- same bytes back while the object is unchanged; NULL once the object is changed another way.
CREATE TABLE objects (
  kind           TEXT NOT NULL,          -- variable | resource | resource_type | state
  path           TEXT NOT NULL,
  value          TEXT NOT NULL,
  is_secret      INTEGER NOT NULL DEFAULT 0,
  resource_type  TEXT,
  description    TEXT NOT NULL DEFAULT '',
  source         TEXT,
  updated_at     REAL NOT NULL,
  PRIMARY KEY (kind, path)
);
CREATE TABLE job_progress (
  job_id    TEXT PRIMARY KEY,
  progress  INTEGER NOT NULL
);
