#!/usr/bin/env sysbench
-- TroupeDB under sysbench 1.0 (Debian package sysbench): many small actors over the MySQL port.
--
-- Each sysbench thread works on its own actors <prefix><thread>_<k> (k < --actors-per-thread)
-- of type --actor-type (default `bench`, table t (id INTEGER PRIMARY KEY, v INTEGER): see
-- schema.sql next to this file) and cycles through them, one request per event:
--   insert  ACTOR bench(t0_1) create; INSERT INTO t (v) VALUES (<random>)   one durable row
--   select  ACTOR bench(t0_1); SELECT v FROM t WHERE id = <existing id>     a point read
--   mix     --mix-reads selects, then one insert, on one actor before the next actor's turn
--           (--mix-reads=1, the default, alternates)
--   multi   one transaction over --txn-actors of the thread's actors, one row in each:
--           ACTOR bench(t0_0,t0_1,...) create; INSERT INTO t (v) VALUES (<random>)
--           (--txn-style=list), or one ACTOR block per actor in the same request (blocks)
--   create  a new actor per event, one row in it: ACTOR bench(<prefix><thread>_<n>) create;
--           INSERT INTO t (v) VALUES (<n>); bound the run with --events (no seeding)
-- Every request is one transaction (the server's default durability: fsync = always). Before
-- the run each thread creates its actors and gives each --seed-rows rows (ids 1..N, kept if they
-- are already there), so selects always find their row; a select that gets no row stops the run.
-- tests/bench/sysbench/mariadb_rows.lua is the same load for MariaDB (a table per actor).
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
    mode = {"insert | select | mix | multi | create", "mix"},
    mix_reads = {"In mix mode: selects per insert", 1},
    txn_actors = {"In multi mode: actors per transaction (at most --actors-per-thread)", 10},
    txn_style = {"In multi mode: list (ACTOR type(a,b,...)) or blocks (one ACTOR block each)",
                 "list"},
    actor_type = {"Actor type; its schema has table t (id INTEGER PRIMARY KEY, v INTEGER)",
                  "bench"},
    actor_prefix = {"Actor names are <prefix><thread>_<k>", "t"},
    seed_rows = {"Rows each actor gets before the run (the ids point selects read)", 10},
    report_inserts = {"Print the rows each thread inserted per actor at the end", false},
}

local kModes = {insert = true, select = true, mix = true, multi = true, create = true}

local function actorName(thread, k)
    return string.format("%s%d_%d", sysbench.opt.actor_prefix, thread, k)
end

local function checkOptions()
    local o = sysbench.opt
    if not kModes[o.mode] then
        error("--mode must be insert, select, mix, multi or create, not '" .. tostring(o.mode) ..
                  "'")
    end
    if o.actors_per_thread < 1 or o.seed_rows < 1 or o.mix_reads < 0 then
        error("--actors-per-thread and --seed-rows must be at least 1, --mix-reads at least 0")
    end
    if o.mode == "multi" and (o.txn_actors < 1 or o.txn_actors > o.actors_per_thread) then
        error("--txn-actors must be between 1 and --actors-per-thread")
    end
    if o.txn_style ~= "list" and o.txn_style ~= "blocks" then
        error("--txn-style must be list or blocks")
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
    if sysbench.opt.mode == "create" then
        return
    end
    seedActors(con, sysbench.tid)
    for k = 1, sysbench.opt.actors_per_thread do
        actors[k] = actorName(sysbench.tid, k - 1)
        rows[k] = sysbench.opt.seed_rows
        inserted[k] = 0
    end
end

local function randomValue()
    return sysbench.rand.default(1, 1000000000)
end

local function insertRow(k)
    con:query(string.format("ACTOR %s(%s) create; INSERT INTO t (v) VALUES (%d)",
                            sysbench.opt.actor_type, actors[k], randomValue()))
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

-- One transaction over txn_actors consecutive actors of the thread, starting at actor `first`
-- (wrapping around): one new row in each.
local function multiActorInsert(first)
    local o = sysbench.opt
    local picked = {}
    for i = 0, o.txn_actors - 1 do
        picked[#picked + 1] = (first - 1 + i) % #actors + 1
    end
    local value = randomValue()
    local sql
    if o.txn_style == "list" then
        local names = {}
        for i, k in ipairs(picked) do
            names[i] = actors[k]
        end
        sql = string.format("ACTOR %s(%s) create; INSERT INTO t (v) VALUES (%d)", o.actor_type,
                            table.concat(names, ","), value)
    else
        local blocks = {}
        for i, k in ipairs(picked) do
            blocks[i] = string.format("ACTOR %s(%s) create; INSERT INTO t (v) VALUES (%d);",
                                      o.actor_type, actors[k], value)
        end
        sql = table.concat(blocks, " ")
    end
    con:query(sql)
    for _, k in ipairs(picked) do
        rows[k] = rows[k] + 1
        inserted[k] = inserted[k] + 1
    end
end

local function createActor()
    con:query(string.format("ACTOR %s(%s) create; INSERT INTO t (v) VALUES (%d)",
                            sysbench.opt.actor_type, actorName(sysbench.tid, events), events))
end

function event()
    local mode = sysbench.opt.mode
    if mode == "create" then
        createActor()
    elseif mode == "insert" then
        insertRow(events % #actors + 1)
    elseif mode == "select" then
        selectRow(events % #actors + 1)
    elseif mode == "multi" then
        multiActorInsert(events % #actors + 1)
    else
        -- mix: each actor gets mix_reads selects, then an insert, before the next actor's turn.
        local cycle = sysbench.opt.mix_reads + 1
        local k = math.floor(events / cycle) % #actors + 1
        if events % cycle == cycle - 1 then
            insertRow(k)
        else
            selectRow(k)
        end
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
        if sysbench.opt.mode == "create" then
            lines[1] = string.format("created %d actors\n", events)
        end
        io.stdout:write(table.concat(lines))
        io.stdout:flush()
    end
    con:disconnect()
end
