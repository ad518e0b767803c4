'use strict';
// Drives a running troupe-server's MySQL port with Node.js mysql2 (the version pinned in
// package.json / package-lock.json next to this file).
//
//     node mysql2_clients.js --port N --actor NAME
//
// Run by tests/integration/tst_mysql_tools.cpp, which installs the modules with `npm ci` in the
// build tree and runs a copy of this file there. The server runs resources/init.sql plus type
// `typed`: vals (id INTEGER PRIMARY KEY, n INTEGER, d REAL, s TEXT, b BLOB). Every check runs even
// when an earlier one failed; each prints PASS or FAIL with what it saw, and the exit code is the
// number of failures (0: all passed). Exit code 77 means mysql2 is not installed.

let mysql;
try {
  mysql = require('mysql2/promise');
} catch (e) {
  console.log(`SKIP mysql2 cannot be loaded: ${e.message}`);
  process.exit(77);
}
const assert = require('node:assert/strict');

const kCheckTimeoutMs = 30000;

function parseArgs() {
  const args = { port: 0, actor: '' };
  for (let i = 2; i + 1 < process.argv.length; i += 2) {
    const key = process.argv[i].replace(/^--/, '');
    args[key] = process.argv[i + 1];
  }
  args.port = Number(args.port);
  if (!args.port || !args.actor) {
    console.error('usage: node mysql2_clients.js --port N --actor NAME');
    process.exit(2);
  }
  return args;
}

const { port, actor } = parseArgs();
const db = `type1.${actor}`;

function options(extra = {}) {
  return {
    host: '127.0.0.1',
    port,
    user: 'root',
    password: 'rootpass',
    connectTimeout: 10000,
    ...extra,
  };
}

const connect = (extra) => mysql.createConnection(options(extra));

// Rejects with `what` after kCheckTimeoutMs: a server that never answers fails the check.
function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${kCheckTimeoutMs} ms: ${what}`)),
      kCheckTimeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Fails unless `run()` rejects with MySQL error `errno` / `sqlState`; returns the error.
async function expectError(run, errno, sqlState, what) {
  let result;
  try {
    result = await run();
  } catch (e) {
    assert.equal(e.errno, errno, `errno of ${what} (${e.code}: ${e.message})`);
    assert.equal(e.sqlState, sqlState, `SQLSTATE of ${what} (${e.message})`);
    return e;
  }
  assert.fail(`${what} should fail with ${errno}, returned ${JSON.stringify(result)}`);
}

const checks = [];
function check(name, fn) {
  checks.push({ name, fn });
}

// --- the text protocol (query) -------------------------------------------------------------

check('query: an inline ACTOR request creates the actor; affectedRows and insertId', async () => {
  const conn = await connect();
  try {
    let [res] = await conn.query(
      `ACTOR type1(${actor}) create; INSERT INTO tab (id, txt, i) VALUES (1, 'one', 10)`);
    assert.equal(res.affectedRows, 1, 'affectedRows');
    assert.equal(res.insertId, 1, 'insertId');
    [res] = await conn.query(
      `ACTOR type1(${actor}); INSERT INTO tab (txt, i) VALUES ('h\u00e9llo \u2713', NULL)`);
    assert.equal(res.affectedRows, 1, 'affectedRows');
    assert.equal(res.insertId, 2, 'insertId');
  } finally {
    await conn.end();
  }
});

check(`query: database '${db}' selects the actor; rows, fields and DATABASE()`, async () => {
  const conn = await connect({ database: db });
  try {
    const [rows, fields] = await conn.query(
      'SELECT id, txt, i, i * 0.5 AS half FROM tab WHERE id <= 2 ORDER BY id');
    assert.deepEqual(rows, [
      { id: 1, txt: 'one', i: 10, half: 5 },
      { id: 2, txt: 'h\u00e9llo \u2713', i: null, half: null },
    ]);
    assert.deepEqual(fields.map((f) => f.name), ['id', 'txt', 'i', 'half']);
    const [[current]] = await conn.query('SELECT DATABASE()');
    assert.deepEqual(current, { 'DATABASE()': db }, 'DATABASE()');
    // Placeholders in query() are filled in by the driver (escaped text).
    const [[row]] = await conn.query('SELECT txt FROM tab WHERE id = ?', [1]);
    assert.equal(row.txt, 'one');
  } finally {
    await conn.end();
  }
});

check('query: a sticky `ACTOR type(id) create;` selects the actor for the next queries',
  async () => {
    const conn = await connect();
    try {
      await conn.query(`ACTOR type1(${actor}_sticky) create;`);
      await conn.query("INSERT INTO tab (txt) VALUES ('s1')");
      await conn.query("INSERT INTO tab (txt) VALUES ('s2')");
      const [rows] = await conn.query('SELECT txt FROM tab ORDER BY id');
      assert.deepEqual(rows.map((r) => r.txt), ['s1', 's2']);
    } finally {
      await conn.end();
    }
  });

check('query: a literal SELECT with FROM runs in the actor, not as a connection probe',
  async () => {
    const name = `${actor}_literal`;
    const setup = await connect();
    await setup.query(`ACTOR type1(${name}) create; INSERT INTO tab (txt) VALUES ('x'), ('y')`);
    await setup.end();
    const conn = await connect({ database: `type1.${name}` });
    try {
      const [rows, fields] = await conn.query('SELECT 1 AS one FROM tab');
      assert.deepEqual(fields.map((f) => f.name), ['one'], 'column names');
      assert.deepEqual(rows, [{ one: 1 }, { one: 1 }], 'one row per row of tab');
      const [none] = await conn.query('SELECT 1 AS one FROM tab WHERE id > 1000');
      assert.deepEqual(none, [], 'no rows');
    } finally {
      await conn.end();
    }
  });

// --- prepared statements (execute) -----------------------------------------------------------

check('execute: prepared INSERT and SELECT with parameters, re-executed', async () => {
  const conn = await connect({ database: db });
  try {
    // execute() prepares once per connection and SQL text, then re-executes the statement.
    for (let k = 0; k < 5; ++k) {
      const [res] = await conn.execute('INSERT INTO tab (txt, i) VALUES (?, ?)', [`e${k}`, k]);
      assert.equal(res.affectedRows, 1, `affectedRows of insert ${k}`);
      assert.equal(res.insertId, 3 + k, `insertId of insert ${k}`);
    }
    for (let k = 0; k < 5; ++k) {
      const [rows] = await conn.execute('SELECT txt, i FROM tab WHERE id = ?', [3 + k]);
      assert.deepEqual(rows, [{ txt: `e${k}`, i: k }], `row ${3 + k}`);
    }
    // An explicit statement: executed several times, then closed.
    const stmt = await conn.prepare('SELECT count(*) AS n FROM tab WHERE i >= ?');
    assert.equal(stmt.statement.parameters.length, 1, 'parameter count');
    assert.deepEqual(stmt.statement.columns.map((c) => c.name), ['n'], 'columns');
    for (const [min, n] of [[0, 6], [3, 3], [100, 0]]) {
      const [[row]] = await stmt.execute([min]);
      assert.equal(row.n, n, `count of i >= ${min}`);
    }
    await stmt.close();
    const [[after]] = await conn.execute('SELECT count(*) AS n FROM tab');
    assert.equal(after.n, 7, 'count after closing the statement');
  } finally {
    await conn.end();
  }
});

check('execute: a statement that names its actor runs there, not in the selected one',
  async () => {
    const conn = await connect({ database: db });
    try {
      const [res] = await conn.execute(
        `ACTOR type1(${actor}_other) create; INSERT INTO tab (txt) VALUES (?)`, ['elsewhere']);
      assert.equal(res.affectedRows, 1, 'affectedRows');
      const [rows] = await conn.execute(`ACTOR type1(${actor}_other); SELECT txt FROM tab`);
      assert.deepEqual(rows, [{ txt: 'elsewhere' }]);
      const [[here]] = await conn.execute("SELECT count(*) AS n FROM tab WHERE txt = 'elsewhere'");
      assert.equal(here.n, 0, 'not in the selected actor');
    } finally {
      await conn.end();
    }
  });

// --- typed values --------------------------------------------------------------------------

const kBig = 2n ** 60n + 3n; // beyond Number.MAX_SAFE_INTEGER (2^53 - 1)
const kNegBig = -(2n ** 62n) + 7n;
const kText = 'h\u00e9llo \u2713 \u65e5\u672c \u{1f600}'; // 2-, 3- and 4-byte UTF-8
const kBlob = Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xff, 0x00]);

async function insertTypedRows(conn, typedDb) {
  await conn.query(`ACTOR typed(${typedDb}) create; DELETE FROM vals`);
  const insert = 'INSERT INTO vals (id, n, d, s, b) VALUES (?, ?, ?, ?, ?)';
  await conn.execute(insert, [1, kBig, 3.25, kText, kBlob]);
  await conn.execute(insert, [2, kNegBig, -1.5e-7, '', Buffer.alloc(0)]);
  await conn.execute(insert, [3, 42, 0.1, 'plain', Buffer.from('ab')]);
  await conn.execute(insert, [4, null, null, null, null]);
}

// `int` is how the options under test deliver a LONGLONG holding `v` (a BigInt).
function expectTypedRows(rows, int, what) {
  assert.deepEqual(rows, [
    { id: int(1n), n: int(kBig), d: 3.25, s: kText, b: kBlob },
    { id: int(2n), n: int(kNegBig), d: -1.5e-7, s: '', b: Buffer.alloc(0) },
    { id: int(3n), n: int(42n), d: 0.1, s: 'plain', b: Buffer.from('ab') },
    { id: int(4n), n: null, d: null, s: null, b: null },
  ], what);
}

const isSafe = (v) => v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER);

for (const [label, suffix, extra, int] of [
  ['supportBigNumbers: beyond 2^53 as strings, smaller as numbers', 'big',
    { supportBigNumbers: true }, (v) => (isSafe(v) ? Number(v) : v.toString())],
  ['supportBigNumbers + bigNumberStrings: every LONGLONG as a string', 'strings',
    { supportBigNumbers: true, bigNumberStrings: true }, (v) => v.toString()],
  ['default options: beyond 2^53 as a rounded number', 'default', {}, (v) => Number(v)],
]) {
  check(`typed values through query and execute (${label})`, async () => {
    const typedDb = `${actor}_${suffix}`;
    const conn = await connect({ ...extra, database: `typed.${typedDb}` });
    try {
      await insertTypedRows(conn, typedDb);
      const sql = 'SELECT id, n, d, s, b FROM vals ORDER BY id';
      const [textRows] = await conn.query(sql);
      expectTypedRows(textRows, int, 'query (text rows)');
      const [binaryRows] = await conn.execute(sql);
      expectTypedRows(binaryRows, int, 'execute (binary rows)');
      // Parameters come back as they were sent: a double, text, a blob, NULL, a BigInt.
      const [[echo]] = await conn.execute(
        'SELECT ? AS d, ? AS s, ? AS b, ? AS z, ? + 0 AS n', [2.5, kText, kBlob, null, kBig]);
      assert.deepEqual(echo, { d: 2.5, s: kText, b: kBlob, z: null, n: int(kBig) },
        'parameters echoed');
      const [[classes]] = await conn.query(
        'SELECT typeof(n) AS tn, typeof(d) AS td, typeof(s) AS ts, typeof(b) AS tb FROM vals' +
        ' WHERE id = 1');
      assert.deepEqual(classes, { tn: 'integer', td: 'real', ts: 'text', tb: 'blob' },
        'storage classes in SQLite');
    } finally {
      await conn.end();
    }
  });
}

// --- errors ----------------------------------------------------------------------------------

check('errors: unknown table is 1146 / 42S02 in query and execute; connection still usable',
  async () => {
    const conn = await connect({ database: db });
    try {
      const e = await expectError(() => conn.query('SELECT * FROM nosuch'), 1146, '42S02',
        'query of an unknown table');
      assert.equal(e.code, 'ER_NO_SUCH_TABLE', 'mysql2 error code');
      assert.match(e.message, /nosuch/, 'message names the table');
      let [[row]] = await conn.query('SELECT count(*) AS n FROM tab');
      assert.equal(row.n, 7, 'count after the error');
      await expectError(() => conn.execute('SELECT * FROM nosuch WHERE id = ?', [1]), 1146,
        '42S02', 'prepare of an unknown table');
      [[row]] = await conn.execute('SELECT count(*) AS n FROM tab WHERE id > ?', [0]);
      assert.equal(row.n, 7, 'execute after the error');
      await expectError(() => conn.query('SELEC 1'), 1064, '42000', 'a syntax error');
      await expectError(() => conn.execute('INSERT INTO tab (id, txt) VALUES (?, ?)', [1, 'dup']),
        1062, '23000', 'a duplicate primary key');
      await expectError(() => conn.query(`ACTOR type1(${actor}_missing); SELECT * FROM tab`),
        1049, '42000', 'a missing actor without create');
      await conn.ping();
    } finally {
      await conn.end();
    }
  });

check('errors: a wrong password is 1045 / 28000', async () => {
  await expectError(() => connect({ password: 'wrong' }), 1045, '28000', 'a wrong password');
  const conn = await connect();
  await conn.ping();
  await conn.end();
});

// --- a pool ----------------------------------------------------------------------------------

check('pool: 4 connections, 12 concurrent workers each on its own actors', async () => {
  const pool = mysql.createPool(options({ connectionLimit: 4, supportBigNumbers: true }));
  try {
    const workers = 12;
    const rounds = 8;
    const work = async (w) => {
      const name = `${actor}_pool${w}`;
      for (let r = 0; r < rounds; ++r) {
        // Alternately the text protocol and prepared statements, on whichever connection is free.
        if (r % 2 === 0)
          await pool.query(`ACTOR type1(${name}) create; INSERT INTO tab (txt, i) VALUES (?, ?)`,
            [`w${w}`, r]);
        else
          await pool.execute(`ACTOR type1(${name}) create; INSERT INTO tab (txt, i) VALUES (?, ?)`,
            [`w${w}`, r]);
      }
      const [[row]] = await pool.execute(
        `ACTOR type1(${name}); SELECT count(*) AS n, sum(i) AS s, min(txt) AS t FROM tab`);
      assert.deepEqual(row, { n: rounds, s: (rounds * (rounds - 1)) / 2, t: `w${w}` },
        `worker ${w}`);
    };
    await Promise.all(Array.from({ length: workers }, (_, w) => work(w)));

    // An error on a pooled connection, then the pool goes on.
    await expectError(() => pool.query(`ACTOR type1(${actor}_pool0); SELECT * FROM nosuch`), 1146,
      '42S02', 'an unknown table through the pool');
    const results = await Promise.all(Array.from({ length: workers }, (_, w) =>
      pool.query(`ACTOR type1(${actor}_pool${w}); SELECT count(*) AS n FROM tab`)));
    results.forEach(([[row]], w) => assert.equal(row.n, rounds, `count of worker ${w}`));

    // A connection held from the pool keeps a sticky actor while it is held.
    const held = await pool.getConnection();
    try {
      await held.query(`ACTOR type1(${actor}_pool3);`);
      const [[row]] = await held.execute('SELECT count(*) AS n FROM tab');
      assert.equal(row.n, rounds, 'count through the sticky actor');
    } finally {
      held.release();
    }
  } finally {
    await pool.end();
  }
});

check('pool with resetOnRelease: COM_RESET_CONNECTION clears the sticky actor', async () => {
  const pool = mysql.createPool(options({ connectionLimit: 1, resetOnRelease: true }));
  try {
    let conn = await pool.getConnection();
    await conn.query(`ACTOR type1(${actor}_pool1);`);
    const [[row]] = await conn.execute('SELECT count(*) AS n FROM tab');
    assert.equal(row.n, 8, 'count through the sticky actor');
    conn.release();
    conn = await pool.getConnection(); // the same connection, reset
    try {
      await expectError(() => conn.query('SELECT count(*) FROM tab'), 1046, '3D000',
        'a query after the reset without an actor');
      const [[again]] = await conn.execute(
        `ACTOR type1(${actor}_pool1); SELECT count(*) AS n FROM tab`);
      assert.equal(again.n, 8, 'a prepared statement after the reset');
    } finally {
      conn.release();
    }
  } finally {
    await pool.end();
  }
});

async function main() {
  let failures = 0;
  for (const { name, fn } of checks) {
    try {
      await withTimeout(fn(), name);
      console.log(`PASS ${name}`);
    } catch (e) {
      ++failures;
      console.log(`FAIL ${name}:\n${e && e.stack ? e.stack : e}`);
    }
  }
  console.log(`mysql2: ${failures} of ${checks.length} failed`);
  return Math.min(failures, 76);
}

main().then((code) => process.exit(code), (e) => {
  console.log(`FAIL ${e && e.stack ? e.stack : e}`);
  process.exit(76);
});
