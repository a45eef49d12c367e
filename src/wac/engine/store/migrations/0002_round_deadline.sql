-- wac store schema, version 2: the reaper's safety net for task timeouts.
-- round_deadline = claim time + options.timeout + lease length, set by claim() for jobs with a
-- timeout. The worker kills a round at its timeout; if a round is still running past this
-- deadline (its worker did not), reap() fails the job with a TimeoutError.
ALTER TABLE jobs ADD COLUMN round_deadline REAL;
CREATE INDEX jobs_by_round_deadline ON jobs(round_deadline) WHERE status = 'running';
