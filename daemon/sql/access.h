#pragma once

// The `config` pseudo-database of ActorDB (MISSION §2 "Administration", `USE config` scripts and
// Thrift `exec_config`): groups, nodes, users and their grants, and the checks made with them
// (actor access, admin rights, passwords).
//
// AccessConfig is an immutable value: the node shares the current one as
// shared_ptr<const AccessConfig> and replaces it with the outcome of applyConfigScript(). Every
// function here is pure (no I/O but a scratch in-memory SQLite database, no global state), so any
// thread may call it.
//
// Passwords are never stored in clear: each user keeps SHA1(SHA1(password)) (what
// mysql_native_password needs; unsalted by that protocol's design) and SHA-256(salt + password)
// with a 16-byte random salt for plain-password logins (Thrift `login`). Neither errors nor
// SELECT output ever contain a password or a hash.
//
// Config scripts:
// - Statements end at `;` or at a newline (outside quotes and parentheses) followed by a word
//   that starts a statement (INSERT, SELECT, CREATE, GRANT, ...; SET only as SET PASSWORD), so
//   one statement per line works without `;` and a statement may still span lines. `--` and
//   `/* */` comments are dropped; COMMIT, BEGIN and USE CONFIG are ignored.
// - INSERT/UPDATE/DELETE on `groups` and `nodes` and SELECT on `groups`, `nodes`, `users`
//   (names only) and `grants` (user, actor_type, rights as 'read', 'write' or 'read,write') run
//   in a scratch SQLite database holding the config; any other SQL is NotPermitted.
// - CREATE USER 'u' IDENTIFIED BY 'pw' | DROP USER 'u'[, ...] | SET PASSWORD FOR 'u' = 'pw'
//   (or = PASSWORD('pw')) | ALTER USER 'u' IDENTIFIED BY 'pw' | GRANT rights ON type|* TO 'u'
//   | REVOKE rights ON type|* FROM 'u', where rights is read, write, read,write or all
//   [privileges], and 'u' may be 'u'@'host' (host ignored). Names are '...', "...", `...` or bare
//   words; passwords are quoted and non-empty.
// - The first script (the init, run on an uninitialized config) gives each user it creates
//   read,write on `*` unless it grants or revokes something for that user itself.
// - After every script the config must keep at least one group, one node and one admin (a user
//   with read,write on `*`); the init must also list the local node. Errors start with ActorDB's
//   names: MissingGroupInsert, MissingNodesInsert, MissingRootUser, LocalNodeMissing.
// - A node name looks like name@host; its group must exist. A script is all or nothing.
//
// Binary format (encodeAccessConfig; integers big-endian, str = u32 length + bytes):
//   "TCFG"  u8 version (1)  u8 flags (bit 0: initialized)
//   u32 groupCount, per group:  str name, str type
//   u32 nodeCount,  per node:   str name, str group
//   u32 userCount,  per user:   str name, str nativeHash (20 bytes), str salt (16 bytes),
//                               str sha256Hash (32 bytes),
//                               u32 grantCount, per grant: str actorType, u8 rights
//                               (bit 0 read, bit 1 write; never 0)
// Lists are written sorted by name (grants by actorType); the decoder re-sorts them and answers
// Corruption, never a crash, for duplicates, bad hash sizes, empty grants, nodes outside their
// groups, unknown versions or flags, truncation and bytes after the last user.

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sql/value.h"

namespace troupe::sql {

// Rights of a user on one actor type ("*" = every type).
struct Grant {
    std::string actorType;
    bool read = false;
    bool write = false;
    bool operator==(const Grant&) const = default;
};

struct UserRecord {
    std::string name;
    std::string nativeHash; // SHA1(SHA1(password)), 20 raw bytes
    std::string salt;       // 16 random bytes
    std::string sha256Hash; // SHA-256(salt + password), 32 raw bytes
    std::vector<Grant> grants;
    bool operator==(const UserRecord&) const = default;
};

struct NodeRecord {
    std::string name; // name@host
    std::string group;
    bool operator==(const NodeRecord&) const = default;
};

struct GroupRecord {
    std::string name;
    std::string type; // "cluster"
    bool operator==(const GroupRecord&) const = default;
};

// The cluster's groups, nodes and users: an immutable value (see the top of this file).
class AccessConfig {
public:
    AccessConfig() = default; // uninitialized: no groups, nodes or users

    // Sorts the lists and checks them (unique names, name@host nodes in existing groups, valid
    // hash sizes and grants); InvalidArgument naming the first problem.
    static Result<AccessConfig> create(bool initialized, std::vector<GroupRecord> groups,
                                       std::vector<NodeRecord> nodes,
                                       std::vector<UserRecord> users);

    bool initialized() const { return m_initialized; }
    const std::vector<GroupRecord>& groups() const { return m_groups; }
    const std::vector<NodeRecord>& nodes() const { return m_nodes; }
    const std::vector<UserRecord>& users() const { return m_users; }
    const UserRecord* findUser(std::string_view name) const;
    const NodeRecord* findNode(std::string_view name) const;

    // True when the user exists and has read and write on `*`.
    bool isAdmin(std::string_view user) const;
    // OK, or NotPermitted "user 'app' may not write actors of type 'x'" (or read; also for an
    // unknown user); NotInitialized before the init script ran. Admins pass everything.
    Status checkActorAccess(std::string_view user, std::string_view type, bool write) const;
    // For config and schema changes: OK for an admin, else NotPermitted; NotInitialized before
    // the init script ran.
    Status checkAdmin(std::string_view user) const;

    bool operator==(const AccessConfig&) const = default;

private:
    bool m_initialized = false;
    std::vector<GroupRecord> m_groups; // sorted by name
    std::vector<NodeRecord> m_nodes;   // sorted by name
    std::vector<UserRecord> m_users;   // sorted by name, grants sorted by actorType
};

struct ConfigOutcome {
    AccessConfig config;
    ExecResult result;    // the last SELECT's columns and rows; rowsChanged summed over writes
    bool changed = false; // config differs from the one the script ran against
};

// Runs a config script against `current` (see the top of this file). `localNode` is this node's
// name ("node1@127.0.0.1"). Errors leave nothing changed: InvalidArgument (parse errors, bad
// nodes, init and invariant checks), NotPermitted (other SQL), Exists / NotFound (users),
// SqlError (SQLite's own errors), Internal (no random bytes).
Result<ConfigOutcome> applyConfigScript(const AccessConfig& current, std::string_view script,
                                        std::string_view localNode);

// Builds a user record with a fresh salt; Internal when no random bytes are available.
Result<UserRecord> makeUser(std::string_view name, std::string_view password);

// Plain-password check against the salted SHA-256, in constant time.
bool verifyPassword(const UserRecord& user, std::string_view password);
// mysql_native_password: scramble = SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw))). False unless both
// are 20 bytes.
bool verifyNativeScramble(const UserRecord& user, std::string_view salt20,
                          std::string_view scramble20);
// The client side of mysql_native_password (tests, the client library).
std::string nativeScramble(std::string_view password, std::string_view salt20);

// Raw digests (20 and 32 bytes).
std::string sha1(std::string_view data);
std::string sha256(std::string_view data);

std::string encodeAccessConfig(const AccessConfig& config);
// Corruption for anything encodeAccessConfig() would not have written.
Result<AccessConfig> decodeAccessConfig(std::string_view bytes);

} // namespace troupe::sql
