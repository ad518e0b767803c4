#pragma once

// troupe::client::Client: a small C++ client of TroupeDB's (and ActorDB's) Thrift API, over the
// code Thrift generates from shared/idl/troupe.thrift. Qt-free; used by the `troupe` shell, the
// console's worker threads and the tests.
//
//   Client c;
//   ConnectOptions o; o.host = "127.0.0.1"; o.port = 33306;
//   if (Status s = c.connect(o); !s) ...
//   if (Status s = c.login("root", "rootpass"); !s) ...          // or loginScrambled()
//   Result<QueryResult> r = c.execSingle("alice", "notes", "SELECT * FROM note", {"create"});
//
// Errors are troupe::Status values: the server's InvalidRequestException codes become
// TroupeDB's ErrorCode (LoginFailed -> NotLoggedIn, NoCreate -> NoCreate, ...) with the server's
// text; a lost connection is IoError and the client is then disconnected; nothing throws.
//
// Threads: one Client belongs to one thread at a time (calls block until answered); separate
// Clients may be used from separate threads.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"

namespace troupe::client {

struct Blob {
    std::string bytes;
    bool operator==(const Blob&) const = default;
};

// NULL, INTEGER, REAL, TEXT, BLOB (SQLite's storage classes).
using Value = std::variant<std::monostate, std::int64_t, double, std::string, Blob>;
using Row = std::vector<Value>;

// What a call returned: a read (columns and rows, each row in column order), a write
// (lastChangeRowid, rowsChanged), or for execSingleBatch one result per statement.
struct QueryResult {
    bool isRead = false;
    std::vector<std::string> columns;
    std::vector<Row> rows;
    std::int64_t lastChangeRowid = 0;
    std::int64_t rowsChanged = 0;
    std::vector<QueryResult> batch;
};

// The admin calls' answers (TroupeDB's extensions; resources/docs/thrift.md).
struct ShardInfo {
    int shard = 0;
    std::int64_t hashFrom = 0; // inclusive range of the 32-bit actor hash
    std::int64_t hashTo = 0;
    std::string leader;
    std::vector<std::string> replicas;
    std::string state; // this node's role: "leader", ...
};

struct ClusterInfo {
    std::string nodeName; // the node answering
    std::string version;
    std::int64_t uptimeSeconds = 0;
    std::map<std::string, int> ports;                        // thrift, mysql, http, node
    std::vector<std::pair<std::string, std::string>> nodes;  // (name, group)
    std::vector<std::pair<std::string, std::string>> groups; // (name, type)
    std::vector<ShardInfo> shards;
};

struct ActorPage {
    std::vector<std::string> names;
    std::optional<std::string> nextCursor; // pass as `after` for the next page; none at the end
};

struct ActorInfo {
    std::string type;
    std::string name;
    std::int64_t actorId = 0;
    std::int64_t pages = 0;
    std::int64_t sizeBytes = 0;   // the SQLite file's size
    std::int64_t storedBytes = 0; // as stored (compressed)
    int schemaVersion = 0;        // applied by the actor
    int typeSchemaVersion = 0;    // the type's current version
    int shard = 0;
};

// admin_verify's answer: what a walk over every stored record found (per LMDB database).
struct VerifyDbInfo {
    std::string name; // "actors", "pages", "raftlog", "raftstate", "meta"
    std::int64_t records = 0;
    std::int64_t errors = 0;
    std::int64_t legacy = 0; // format-1 records without a checksum
};

struct VerifyInfo {
    bool clean = true;
    int formatVersion = 0;
    std::vector<VerifyDbInfo> dbs;
    std::int64_t errorCount = 0;
    std::vector<std::string> errors; // the first 100
};

struct SchemaVersion {
    int version = 0;
    std::vector<std::string> statements; // what moved the type from version-1 to version
};

struct ActorTypeSchema {
    std::string name;
    bool kv = false;
    int version = 0;
    std::vector<SchemaVersion> history; // oldest first
};

struct SchemaInfo {
    std::int64_t revision = 0;
    std::vector<ActorTypeSchema> types;
};

struct ConnectOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 33306;
    bool framed = true; // framed transport; false: unframed (buffered), as some clients use
    bool tls = false;
    // With tls: PEM file of the certificates to trust. Empty: the server's certificate is not
    // checked (encryption without authentication; fine for loopback and self-signed tests).
    std::string tlsCaFile;
    std::chrono::milliseconds connectTimeout{10000};
    std::chrono::milliseconds callTimeout{0}; // 0: calls wait as long as the server takes
};

class Client {
public:
    Client();
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // IoError naming host:port when the connection (or the TLS handshake) fails.
    Status connect(const ConnectOptions& options);
    void close();
    bool connected() const;

    Result<std::string> protocolVersion();
    // The password in clear (inside TLS, or on loopback).
    Status login(const std::string& user, const std::string& password);
    // salt() then the MySQL native scramble: the password never crosses the network.
    Status loginScrambled(const std::string& user, const std::string& password);

    Result<QueryResult> execConfig(const std::string& sql);
    Result<QueryResult> execSchema(const std::string& sql);
    // `flags`: create, safe, fsync. `params`: rows of ?1.. values; the SQL runs once per row.
    Result<QueryResult> execSingle(const std::string& actor, const std::string& type,
                                   const std::string& sql,
                                   const std::vector<std::string>& flags = {},
                                   const std::vector<Row>& params = {});
    // Statement i of `sql` runs once per row of params[i]; one result per statement.
    Result<QueryResult> execSingleBatch(const std::string& actor, const std::string& type,
                                        const std::string& sql,
                                        const std::vector<std::string>& flags,
                                        const std::vector<std::vector<Row>>& params);
    Result<QueryResult> execMulti(const std::vector<std::string>& actors, const std::string& type,
                                  const std::string& sql,
                                  const std::vector<std::string>& flags = {});
    Result<QueryResult> execAll(const std::string& type, const std::string& sql,
                                const std::vector<std::string>& flags = {});
    // A whole request in the ActorDB dialect (ACTOR statements included).
    Result<QueryResult> execSql(const std::string& sql, const std::vector<Row>& params = {});

    Result<std::vector<std::string>> actorTypes();
    Result<std::vector<std::string>> actorTables(const std::string& type);
    // (column name, declared type), by column name.
    Result<std::vector<std::pair<std::string, std::string>>> actorColumns(const std::string& type,
                                                                          const std::string& table);
    Result<std::int64_t> uniqid();

    // Admin calls (TroupeDB only; a user with admin rights, else NotPermitted).
    Result<ClusterInfo> clusterInfo();
    // Names of `type` starting with `prefix`, after `after` (the previous page's nextCursor),
    // at most `limit` (<= 0: 100; the server caps it at 1000).
    Result<ActorPage> listActors(const std::string& type, const std::string& prefix = {},
                                 const std::string& after = {}, int limit = 100);
    // InvalidType for an unknown type, NoCreate for a missing actor.
    Result<ActorInfo> actorInfo(const std::string& type, const std::string& name);
    // Every type when `type` is empty.
    Result<SchemaInfo> schemaInfo(const std::string& type = {});
    // The /metrics samples as name -> value.
    Result<std::map<std::string, double>> metrics();
    // Checks every stored record on the node (checksums, decoding) while it serves.
    Result<VerifyInfo> verify();

    class Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

// The MySQL native scramble: SHA1(password) XOR SHA1(salt + SHA1(SHA1(password))).
std::string nativeScramble(const std::string& salt, const std::string& password);

} // namespace troupe::client
