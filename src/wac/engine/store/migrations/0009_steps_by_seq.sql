-- wac store schema, version 9: a parked sticky parent's claim reads only the steps added since
-- its earlier claim (``seq > ?``, issue 17); without this index that read walked every step of
-- the job, so a sequential task cost more the longer its run.
CREATE INDEX steps_by_seq ON steps(job_id, seq);
