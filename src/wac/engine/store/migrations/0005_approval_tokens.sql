-- wac store schema, version 5: approval secrets that nothing in the store derives, settings,
-- and indexes for the runs pages of `wac server`.
--
-- approval_tokens keeps one SHA-256 per URL handed out by get_resume_urls(): what its secret may
-- do (page: approve or reject; resume: approve only; cancel: reject only) and the approver it is
-- bound to (NULL: typed in by whoever approves). jobs.secret, which derived every token of a job,
-- is emptied; the approvals still waiting keep working through their stored hash (as 'page').
CREATE TABLE approval_tokens (
  job_id      TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  key         TEXT NOT NULL,
  hash        TEXT NOT NULL,
  action      TEXT NOT NULL,
  approver    TEXT,
  created_at  REAL NOT NULL,
  PRIMARY KEY (job_id, key, hash)
) WITHOUT ROWID;
INSERT INTO approval_tokens (job_id, key, hash, action, approver, created_at)
  SELECT job_id, key, token_hash, 'page', NULL, created_at FROM approvals
  WHERE resolved_at IS NULL AND token_hash != '';
UPDATE approvals SET token_hash = '';
UPDATE jobs SET secret = '' WHERE secret != '';

-- Workspace settings kept in the store (base_url: the http(s) root of `wac server`).
CREATE TABLE settings (
  name   TEXT PRIMARY KEY,
  value  TEXT NOT NULL
) WITHOUT ROWID;

-- Runs list (root jobs, newest first, keyset paging by seq) and a run's whole graph.
CREATE INDEX jobs_roots ON jobs(seq) WHERE parent_id IS NULL;
CREATE INDEX jobs_roots_by_status ON jobs(status, seq) WHERE parent_id IS NULL;
CREATE INDEX jobs_roots_by_script ON jobs(script_path, seq) WHERE parent_id IS NULL;
CREATE INDEX jobs_by_root ON jobs(root_id, seq);

-- Who started a run (the OS user that submitted the root job), shown on approval pages.
ALTER TABLE jobs ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
