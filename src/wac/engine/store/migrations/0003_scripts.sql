-- wac store schema, version 3: deployed scripts. Every deploy of a changed script adds a row
-- (a version); a path's head is its newest non-archived row. `doc` is the whole version as JSON
-- (code, modules, locks, schema, metadata, layout); `hash` is its content hash.
CREATE TABLE scripts (
  seq                 INTEGER PRIMARY KEY,
  path                TEXT NOT NULL,
  hash                TEXT NOT NULL,
  parent_hash         TEXT,
  doc                 TEXT NOT NULL,
  created_at          REAL NOT NULL,
  created_by          TEXT NOT NULL DEFAULT '',
  deployment_message  TEXT,
  archived            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX scripts_by_path ON scripts(path, seq);
CREATE INDEX scripts_by_hash ON scripts(hash);
