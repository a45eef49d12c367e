-- The twin of SQLite migration 0009: a parked sticky parent's claim reads only the steps added
-- since its earlier claim (``seq > ?``, issue 17) through this index, not every step of the job.
CREATE INDEX steps_by_seq ON steps(job_id, seq);
