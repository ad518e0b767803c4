// TroupeDB's Thrift API: ActorDB's service `Actordb`, protocol version 1.4.0, with the same
// method names, argument field ids, types, structs, unions, exception and ErrorCode values, so
// that clients generated from ActorDB's adbt.thrift talk to TroupeDB unchanged.
//
// Compatibility rules for this file:
// - Never renumber or retype a field, never rename a method, never change an enum value.
// - New methods (the console's admin calls) are appended at the end of the service with new
//   names; clients that do not know them never call them.
// - New ErrorCode values are not added: old clients' generated code may reject unknown enum
//   values. TroupeDB's own error conditions reach clients as Error (100) with a message.
//
// The C++ code is generated at build time (shared/idl/CMakeLists.txt); nothing generated is
// committed. Documentation: resources/docs/thrift.md.

namespace cpp troupe.thrift.gen
namespace java com.actordb.thrift
namespace netstd Actordb
namespace py actordb
namespace php actordb
namespace perl Actordb
namespace rb ActordbThrift
namespace erl adbt
namespace go actordb
namespace js Actordb

const string VERSION = "1.4.0"

// One SQLite value. Parameters may use any member; results use bigint, real, text, blob and
// isnull (= true) only.
union Val
{
  1: i64 bigint,
  2: i32 integer,
  3: i16 smallint,
  4: double real,
  5: bool bval,
  6: string text,
  7: bool isnull,
  8: binary blob
}

// Rows of a read: each row maps column name -> value.
struct ReadResult
{
  1: required bool hasMore, // always false
  2: required list<string> columns,
  3: required list<map<string,Val>> rows
}

struct WriteResult
{
  1: required i64 lastChangeRowid,
  2: required i64 rowsChanged
}

struct LoginResult
{
  1: required bool success,
  2: optional string error,
  3: optional list<string> readaccess,
  4: optional list<string> writeaccess
}

// The result of one statement of exec_single_batch_param.
union QueryResult
{
  1: ReadResult rdRes,
  2: WriteResult wrRes
}

union Result
{
  1: ReadResult rdRes,
  2: WriteResult wrRes,
  3: list<QueryResult> batchRes
}

enum ErrorCode
{
  NotLoggedIn = 1,            // a call other than protocolVersion/salt/login before login
  EmptyActorName = 2,
  InvalidActorName = 3,       // bad characters in an actor name
  InvalidType = 4,            // no such actor type
  NotPermitted = 5,           // the user has no right on the actor type
  SqlError = 6,
  ConsensusTimeout = 7,       // a write was not confirmed in time; it may still commit
  ConsensusImpossibleAtm = 8, // not enough nodes online to run the request
  LocalNodeMissing = 9,       // init: this node is not in the node list
  MissingGroupInsert = 10,    // init: no group given
  MissingNodesInsert = 11,    // init: no node given
  MissingRootUser = 12,       // init: no root user given
  LoginFailed = 13,           // wrong user name or password
  NotInitialized = 14,        // the node has no config yet
  NoCreate = 15,              // the actor does not exist and the create flag was not given
  Error = 100                 // anything else; info says what
}

exception InvalidRequestException
{
  1: required ErrorCode code,
  2: required string info
}

// ---- TroupeDB's admin extensions (the console's calls; ActorDB has none of these) ----
// Every admin_* method needs a login with admin rights (read,write on `*`): NotLoggedIn before
// login, NotPermitted for other users. Documented in resources/docs/thrift.md.

struct AdminNode
{
  1: required string name,   // name@host, as in `USE config` nodes
  2: required string group
}

struct AdminGroup
{
  1: required string name,
  2: required string type    // "cluster"
}

// One shard: a range of the 32-bit actor hash. Until the cluster work lands every shard is
// local: leader = this node, replicas = [this node], state "leader".
struct AdminShard
{
  1: required i32 shard,
  2: required i64 hashFrom,  // inclusive
  3: required i64 hashTo,    // inclusive
  4: required string leader,
  5: required list<string> replicas,
  6: required string state   // this node's role in the shard's group
}

struct AdminClusterInfo
{
  1: required string nodeName,         // this node
  2: required string version,          // troupe-server's version
  3: required i64 uptimeSeconds,
  4: required map<string,i32> ports,   // "thrift", "mysql", "http", "node"
  5: required list<AdminNode> nodes,
  6: required list<AdminGroup> groups,
  7: required list<AdminShard> shards
}

// A page of actor names. nextCursor, when set, is the `after` of the next page.
struct AdminActorList
{
  1: required list<string> names,
  2: optional string nextCursor
}

struct AdminActorInfo
{
  1: required string actortype,
  2: required string actorname,
  3: required i64 pages,               // database size in SQLite pages
  4: required i64 sizeBytes,           // pages * pageSize: the SQLite file's size
  5: required i64 storedBytes,         // bytes stored for its pages (LZ4-compressed)
  6: required i32 schemaVersion,       // schema statements its database has applied
  7: required i32 typeSchemaVersion,   // the type's current version (applied on next use)
  8: required i32 shard,
  9: required i64 actorId
}

// A schema version of a type: version v is reached by running `statements` on version v-1.
struct AdminSchemaVersion
{
  1: required i32 version,
  2: required list<string> statements
}

struct AdminActorType
{
  1: required string name,
  2: required bool kv,
  3: required i32 version,
  4: required list<AdminSchemaVersion> history   // oldest first
}

struct AdminSchema
{
  1: required i64 revision,                      // bumped by every schema change
  2: required list<AdminActorType> types
}

// What admin_verify found in one LMDB database (resources/docs/operations.md, "Verifying").
struct AdminVerifyDb
{
  1: required string name,     // "actors", "pages", "raftlog", "raftstate", "meta"
  2: required i64 records,     // records checked
  3: required i64 errors,      // records that failed (or a B-tree walk LMDB refused)
  4: required i64 legacy       // format-1 records without a checksum (not yet upgraded)
}

struct AdminVerifyResult
{
  1: required bool clean,
  2: required i32 formatVersion,        // the on-disk format (2: every record has a checksum)
  3: required list<AdminVerifyDb> dbs,
  4: required i64 errorCount,
  5: required list<string> errors       // the first 100: "pages: actor 7 page 3 fails its checksum (damaged data)"
}

service Actordb
{
  string protocolVersion(),

  // password: the plain password, or after salt() the MySQL native scramble
  // SHA1(password) XOR SHA1(salt <concat> SHA1(SHA1(password))).
  LoginResult login(1: required string username, 2: required binary password)
    throws (1: InvalidRequestException ire),

  // 20 random bytes for a scrambled login on this connection.
  binary salt(),

  // A `USE config` script: groups, nodes, users, grants. Works before login on a node that is
  // not initialised yet.
  Result exec_config(1: required string sql) throws (1: InvalidRequestException ire),

  // A `USE schema` script.
  Result exec_schema(1: required string sql) throws (1: InvalidRequestException ire),

  // SQL in one actor; flags: create, safe, fsync.
  Result exec_single(1: required string actorname, 2: required string actortype,
                     3: required string sql, 4: list<string> flags = [])
    throws (1: InvalidRequestException ire),

  // As exec_single with ?1.. parameters; each inner list is one row of parameters and the SQL
  // runs once per row, all in one transaction.
  Result exec_single_param(1: required string actorname, 2: required string actortype,
                           3: required string sql, 4: list<string> flags = [],
                           5: list<list<Val>> bindingvals = [])
    throws (1: InvalidRequestException ire),

  // SQL in several actors of a type.
  Result exec_multi(1: required list<string> actors, 2: required string actortype,
                    3: required string sql, 4: list<string> flags = [])
    throws (1: InvalidRequestException ire),

  // SQL in every actor of a type.
  Result exec_all(1: required string actortype, 2: required string sql,
                  3: list<string> flags = [])
    throws (1: InvalidRequestException ire),

  // A whole request in the ActorDB dialect: ACTOR type(name) create; SELECT ...
  Result exec_sql(1: required string sql) throws (1: InvalidRequestException ire),

  // As exec_sql with parameters (rows as in exec_single_param).
  Result exec_sql_param(1: required string sql, 2: list<list<Val>> bindingvals = [])
    throws (1: InvalidRequestException ire),

  list<string> actor_types() throws (1: InvalidRequestException ire),

  list<string> actor_tables(1: required string actor_type)
    throws (1: InvalidRequestException ire),

  // column name -> declared type
  map<string,string> actor_columns(1: required string actor_type,
                                   2: required string actor_table)
    throws (1: InvalidRequestException ire),

  // A cluster-unique integer.
  i64 uniqid() throws (1: InvalidRequestException ire),

  // Several statements in one actor, one transaction: bindingvals[i] holds the rows of
  // parameters of statement i; the answer is batchRes with one QueryResult per statement.
  Result exec_single_batch_param(1: required string actorname, 2: required string actortype,
                                 3: required string sql, 4: list<string> flags = [],
                                 5: list<list<list<Val>>> bindingvals = [])
    throws (1: InvalidRequestException ire),

  // ---- Admin extensions (TroupeDB): appended, so ActorDB's method ids never move ----

  // This node, the configured nodes and groups, and the shards with their leaders.
  AdminClusterInfo admin_cluster_info() throws (1: InvalidRequestException ire),

  // Actors of a type whose name starts with `prefix`, in name order, after the name `after`
  // (a cursor: the nextCursor of the previous page; empty = from the start); at most `limit`
  // (<= 0: 100; capped at 1000). InvalidType for an unknown type.
  AdminActorList admin_list_actors(1: required string actortype, 2: string prefix = "",
                                   3: string after = "", 4: i32 limit = 100)
    throws (1: InvalidRequestException ire),

  // InvalidType for an unknown type, NoCreate for an actor that does not exist.
  AdminActorInfo admin_actor_info(1: required string actortype, 2: required string actorname)
    throws (1: InvalidRequestException ire),

  // The schema with each type's version history; `actortype` empty = every type.
  AdminSchema admin_schema(1: string actortype = "") throws (1: InvalidRequestException ire),

  // The metrics of /metrics (Prometheus names, unlabelled) as name -> value.
  map<string,double> admin_metrics() throws (1: InvalidRequestException ire),

  // Checks every stored record (its checksum and that it decodes) in one read snapshot while
  // the node serves; reads the whole data directory, so it takes a while on a big node.
  AdminVerifyResult admin_verify() throws (1: InvalidRequestException ire)
}
