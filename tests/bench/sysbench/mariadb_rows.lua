#!/usr/bin/env sysbench
-- The load of troupe_actors.lua for MariaDB/MySQL (InnoDB), under sysbench 1.0, so that
-- tests/bench/run.sh can set the two side by side. An actor becomes a table: each sysbench thread
-- works on its own tables <prefix><thread>_<k> (k < --actors-per-thread), each
--   CREATE TABLE <name> (id INTEGER PRIMARY KEY AUTO_INCREMENT, v INTEGER) ENGINE=InnoDB
-- (the row shape of the `bench` actor type; AUTO_INCREMENT does what SQLite's INTEGER PRIMARY KEY
-- does by itself), and cycles through them, one event at a time:
--   insert  INSERT INTO t0_1 (v) VALUES (<random>)       autocommit: one durable transaction
--   select  SELECT v FROM t0_1 WHERE id = <existing id>   a point read by primary key
--   mix     --mix-reads selects, then one insert, on one table before the next table's turn
--   multi   BEGIN; one INSERT into each of --txn-actors tables of the thread; COMMIT
--           (the statements one after another: 12 round trips where TroupeDB needs one)
-- Threads share no rows and no tables, as TroupeDB's threads share no actors. Before the run
-- each thread creates its tables and gives each --seed-rows rows (ids 1..N).
--
--   sysbench tests/bench/sysbench/mariadb_rows.lua --mysql-host=127.0.0.1 --mysql-port=3306 \
--       --mysql-user=root --mysql-db=bench --threads=4 --time=10 --mode=mix run
--
-- The database (--mysql-db) must exist. `cleanup` drops the tables of --threads threads.

sysbench.cmdline.options = {
    actors_per_thread = {"Tables each thread works on", 4},
    mode = {"insert | select | mix | multi", "mix"},
    mix_reads = {"In mix mode: selects per insert", 1},
    txn_actors = {"In multi mode: tables per transaction (at most --actors-per-thread)", 10},
    actor_prefix = {"Table names are <prefix><thread>_<k>", "t"},
    seed_rows = {"Rows each table gets before the run (the ids point selects read)", 10},
}

local kModes = {insert = true, select = true, mix = true, multi = true}

local function tableName(thread, k)
    return string.format("%s%d_%d", sysbench.opt.actor_prefix, thread, k)
end

local function checkOptions()
    local o = sysbench.opt
    if not kModes[o.mode] then
        error("--mode must be insert, select, mix or multi, not '" .. tostring(o.mode) .. "'")
    end
    if o.actors_per_thread < 1 or o.seed_rows < 1 or o.mix_reads < 0 then
        error("--actors-per-thread and --seed-rows must be at least 1, --mix-reads at least 0")
    end
    if o.mode == "multi" and (o.txn_actors < 1 or o.txn_actors > o.actors_per_thread) then
        error("--txn-actors must be between 1 and --actors-per-thread")
    end
end

local function connect()
    local drv = sysbench.sql.driver()
    return drv, drv:connect()
end

-- Creates the thread's tables with ids 1..seed_rows (kept if they are already there).
local function seedTables(con, thread)
    local values = {}
    for id = 1, sysbench.opt.seed_rows do
        values[#values + 1] = string.format("(%d, %d)", id, id)
    end
    local rows = table.concat(values, ", ")
    for k = 0, sysbench.opt.actors_per_thread - 1 do
        local name = tableName(thread, k)
        con:query(string.format("CREATE TABLE IF NOT EXISTS %s (id INTEGER PRIMARY KEY " ..
                                    "AUTO_INCREMENT, v INTEGER) ENGINE=InnoDB", name))
        con:query(string.format("INSERT IGNORE INTO %s (id, v) VALUES %s", name, rows))
    end
end

function cmd_prepare()
    checkOptions()
    local drv, con = connect()
    seedTables(con, sysbench.tid)
    con:disconnect()
end

function cmd_cleanup()
    local drv, con = connect()
    for k = 0, sysbench.opt.actors_per_thread - 1 do
        con:query("DROP TABLE IF EXISTS " .. tableName(sysbench.tid, k))
    end
    con:disconnect()
end

sysbench.cmdline.commands = {
    prepare = {cmd_prepare, sysbench.cmdline.PARALLEL_COMMAND},
    cleanup = {cmd_cleanup, sysbench.cmdline.PARALLEL_COMMAND},
}

-- Per thread: the connection, the tables' names and the rows each is known to have (ids
-- 1..rows[k]: the seed rows, then the ones inserted since, whose ids follow without a gap
-- because nothing is deleted or rolled back).
local drv, con
local tables, rows = {}, {}
local events = 0

function thread_init()
    checkOptions()
    drv, con = connect()
    seedTables(con, sysbench.tid)
    for k = 1, sysbench.opt.actors_per_thread do
        tables[k] = tableName(sysbench.tid, k - 1)
        rows[k] = sysbench.opt.seed_rows
    end
end

local function randomValue()
    return sysbench.rand.default(1, 1000000000)
end

local function insertRow(k)
    con:query(string.format("INSERT INTO %s (v) VALUES (%d)", tables[k], randomValue()))
    rows[k] = rows[k] + 1
end

local function selectRow(k)
    local id = sysbench.rand.default(1, rows[k])
    local rs = con:query(string.format("SELECT v FROM %s WHERE id = %d", tables[k], id))
    if rs == nil or rs.nrows ~= 1 then
        error(string.format("%s: id %d should be there, got %s rows", tables[k], id,
                            rs and tostring(rs.nrows) or "no result set"))
    end
    rs:free()
end

local function multiTableInsert(first)
    local value = randomValue()
    con:query("BEGIN")
    for i = 0, sysbench.opt.txn_actors - 1 do
        local k = (first - 1 + i) % #tables + 1
        con:query(string.format("INSERT INTO %s (v) VALUES (%d)", tables[k], value))
        rows[k] = rows[k] + 1
    end
    con:query("COMMIT")
end

function event()
    local mode = sysbench.opt.mode
    if mode == "insert" then
        insertRow(events % #tables + 1)
    elseif mode == "select" then
        selectRow(events % #tables + 1)
    elseif mode == "multi" then
        multiTableInsert(events % #tables + 1)
    else
        local cycle = sysbench.opt.mix_reads + 1
        local k = math.floor(events / cycle) % #tables + 1
        if events % cycle == cycle - 1 then
            insertRow(k)
        else
            selectRow(k)
        end
    end
    events = events + 1
end

function thread_done()
    con:disconnect()
end
