-- Example init script in ActorDB's syntax: a single-node cluster, a root user and a small demo
-- schema. quickstart.sh runs it over Thrift with the shell, `troupe -f resources/init.sql`, on
-- its node's first start (`troupe-server --init resources/init.sql` does the same in-process;
-- the script only works while the data directory is not initialised). Change the password
-- before using it anywhere but on your own machine.
USE config
INSERT INTO groups VALUES ('grp1','cluster')
INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')
CREATE USER 'root' IDENTIFIED BY 'rootpass'
COMMIT

USE schema
-- One actor per music library, thread, user...: ACTOR type1(music) create; SELECT * FROM tab;
ACTOR type1
CREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT)
ALTER TABLE tab ADD i INTEGER
CREATE TABLE tabx (id INTEGER PRIMARY KEY, txt TEXT)
ACTOR thread
CREATE TABLE thread (id INTEGER PRIMARY KEY, msg TEXT, user INTEGER)
ACTOR user
CREATE TABLE userinfo (id INTEGER PRIMARY KEY, name TEXT)
-- A KV type: keys spread over the node's shards by {{hash(key)}}.
ACTOR counters KV
CREATE TABLE actors (id TEXT PRIMARY KEY, hash INTEGER, val INTEGER) WITHOUT ROWID
COMMIT
