-- The `bench` actor type that troupe_actors.lua writes and reads: the same table as the query
-- facade section of tests/bench/storage-bench.sh, so the figures can be set side by side.
-- Append this file to an init script before the node's first start, e.g.
--   cat resources/init.sql tests/bench/sysbench/schema.sql > /tmp/bench-init.sql
--   troupe-server --data-dir /tmp/bench-data --init /tmp/bench-init.sql
USE schema
ACTOR bench
CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)
COMMIT
