-- wac store schema, version 7: workspace items other than scripts (flows, apps, raw apps,
-- schedules, triggers, folders, ...). Each push of a changed item adds a version; `doc` holds the
-- item's files exactly as pushed ({"files": {repo-relative path: text}}), so a pull gives them back
-- byte for byte. A (kind, path)'s head is its newest non-archived row.
CREATE TABLE items (
  seq          INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL,
  path         TEXT NOT NULL,
  hash         TEXT NOT NULL,
  parent_hash  TEXT,
  doc          TEXT NOT NULL,
  created_at   REAL NOT NULL,
  created_by   TEXT NOT NULL DEFAULT '',
  archived     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX items_by_path ON items(kind, path, seq);
