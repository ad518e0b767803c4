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
#include <memory>
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

    class Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

// The MySQL native scramble: SHA1(password) XOR SHA1(salt + SHA1(SHA1(password))).
std::string nativeScramble(const std::string& salt, const std::string& password);

} // namespace troupe::client
