-- The workspace's own key for sealing secret variables and resources (32 random bytes), so a
-- worker on any machine unseals what another machine set. One row, made by the first store that
-- asks (PostgresStore.secret_key: INSERT ... ON CONFLICT DO NOTHING, then SELECT).
CREATE TABLE secret_key (
  id   smallint PRIMARY KEY CHECK (id = 1),
  key  bytea NOT NULL CHECK (octet_length(key) = 32)
);
