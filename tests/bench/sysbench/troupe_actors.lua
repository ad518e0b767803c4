#!/usr/bin/env sysbench
-- TroupeDB under sysbench 1.0 (Debian package sysbench): many small actors over the MySQL port.
--
-- Each sysbench thread works on its own actors <prefix><thread>_<k> (k < --actors-per-thread)
-- of type --actor-type (default `bench`, table t (id INTEGER PRIMARY KEY, v INTEGER): see
-- schema.sql next to this file) and cycles through them, one request per event:
--   insert  ACTOR bench(t0_1) create; INSERT INTO t (v) VALUES (<random>)   one durable row
--   select  ACTOR bench(t0_1); SELECT v FROM t WHERE id = <existing id>     a point read
--   mix     the two alternating
-- Every request is one transaction (the server's default durability: fsync = always). Before
-- the run each thread creates its actors and gives each --seed-rows rows (ids 1..N, kept if they
-- are already there), so selects always find their row; a select that gets no row stops the run.
--
--   sysbench tests/bench/sysbench/troupe_actors.lua --mysql-host=127.0.0.1 --mysql-port=33307 \
--       --mysql-user=root --mysql-password=rootpass --mysql-db=bench --threads=4 --time=10 \
--       --mode=mix run
--
-- --mysql-db must name an actor type (sysbench's default `sbtest` is not one). `prepare` only
-- creates and seeds the actors of --threads threads, `cleanup` deletes them (PRAGMA delete).
-- With --report-inserts=on every thread prints, at the end, `inserted <type>(<actor>) <n>` per
-- actor, so that a test can count the rows afterwards (tests/integration/tst_mysql_tools.cpp).

sysbench.cmdline.options = {
    actors_per_thread = {"Actors each thread works on", 4},
    mode = {"insert | select | mix (alternating)", "mix"},
    actor_type = {"Actor type; its schema has table t (id INTEGER PRIMARY KEY, v INTEGER)",
                  "bench"},
    actor_prefix = {"Actor names are <prefix><thread>_<k>", "t"},
    seed_rows = {"Rows each actor gets before the run (the ids point selects read)", 10},
    report_inserts = {"Print the rows each thread inserted per actor at the end", false},
}

local function actorName(thread, k)
    return string.format("%s%d_%d", sysbench.opt.actor_prefix, thread, k)
end

local function checkOptions()
    local mode = sysbench.opt.mode
    if mode ~= "insert" and mode ~= "select" and mode ~= "mix" then
        error("--mode must be insert, select or mix, not '" .. tostring(mode) .. "'")
    end
    if sysbench.opt.actors_per_thread < 1 or sysbench.opt.seed_rows < 1 then
        error("--actors-per-thread and --seed-rows must be at least 1")
    end
end

local function connect()
    local drv = sysbench.sql.driver()
    return drv, drv:connect()
end

-- Creates the thread's actors with ids 1..seed_rows in t (one request per actor).
local function seedActors(con, thread)
    local values = {}
    for id = 1, sysbench.opt.seed_rows do
        values[#values + 1] = string.format("(%d, %d)", id, id)
    end
    local rows = table.concat(values, ", ")
    for k = 0, sysbench.opt.actors_per_thread - 1 do
        con:query(string.format("ACTOR %s(%s) create; INSERT OR IGNORE INTO t (id, v) VALUES %s",
                                sysbench.opt.actor_type, actorName(thread, k), rows))
    end
end

-- sysbench <script> prepare: every thread seeds its actors.
function cmd_prepare()
    checkOptions()
    local drv, con = connect()
    seedActors(con, sysbench.tid)
    con:disconnect()
end

-- sysbench <script> cleanup: every thread deletes its actors (missing ones are skipped).
function cmd_cleanup()
    local drv, con = connect()
    for k = 0, sysbench.opt.actors_per_thread - 1 do
        pcall(con.query, con, string.format("ACTOR %s(%s); PRAGMA delete", sysbench.opt.actor_type,
                                            actorName(sysbench.tid, k)))
    end
    con:disconnect()
end

sysbench.cmdline.commands = {
    prepare = {cmd_prepare, sysbench.cmdline.PARALLEL_COMMAND},
    cleanup = {cmd_cleanup, sysbench.cmdline.PARALLEL_COMMAND},
}

-- Per thread: the connection, the actors' names, the rows each actor is known to have (ids
-- 1..rows[k] exist) and how many this thread inserted.
local drv, con
local actors, rows, inserted = {}, {}, {}
local events = 0

function thread_init()
    checkOptions()
    drv, con = connect()
    seedActors(con, sysbench.tid)
    for k = 1, sysbench.opt.actors_per_thread do
        actors[k] = actorName(sysbench.tid, k - 1)
        rows[k] = sysbench.opt.seed_rows
        inserted[k] = 0
    end
end

local function insertRow(k)
    con:query(string.format("ACTOR %s(%s) create; INSERT INTO t (v) VALUES (%d)",
                            sysbench.opt.actor_type, actors[k], sysbench.rand.default(1, 1000000000)))
    rows[k] = rows[k] + 1
    inserted[k] = inserted[k] + 1
end

local function selectRow(k)
    local id = sysbench.rand.default(1, rows[k])
    local rs = con:query(string.format("ACTOR %s(%s); SELECT v FROM t WHERE id = %d",
                                       sysbench.opt.actor_type, actors[k], id))
    if rs == nil or rs.nrows ~= 1 then
        error(string.format("%s(%s): id %d should be there, got %s rows", sysbench.opt.actor_type,
                            actors[k], id, rs and tostring(rs.nrows) or "no result set"))
    end
    rs:free()
end

function event()
    local mode = sysbench.opt.mode
    -- In mix mode each actor gets a select, then an insert, before the next actor's turn.
    local turn = mode == "mix" and math.floor(events / 2) or events
    local k = turn % #actors + 1
    if mode == "insert" or (mode == "mix" and events % 2 == 1) then
        insertRow(k)
    else
        selectRow(k)
    end
    events = events + 1
end

function thread_done()
    if sysbench.opt.report_inserts then
        -- One write per thread: print() writes the text and its newline separately, so the
        -- lines of threads finishing together could interleave.
        local lines = {}
        for k = 1, #actors do
            lines[k] = string.format("inserted %s(%s) %d\n", sysbench.opt.actor_type, actors[k],
                                     inserted[k])
        end
        io.stdout:write(table.concat(lines))
        io.stdout:flush()
    end
    con:disconnect()
end
