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
// Passwords are never stored in clear. A user has one of two kinds of password
// (PasswordKind, resources/docs/security.md "credentials"):
// - native (the default, for ActorDB compatibility): SHA1(SHA1(password)) (what
//   mysql_native_password and Thrift salt()/login need; unsalted by that protocol's design) and
//   SHA-256(salt + password) with a 16-byte random salt for plain-password logins;
// - caching_sha2 (`IDENTIFIED WITH caching_sha2_password BY ...`): only
//   PBKDF2-HMAC-SHA256(password, 16-byte salt, kPbkdf2Iterations) — nothing derived from SHA-1.
//   Such a user logs in with caching_sha2_password over MySQL and with the plain Thrift `login`
//   over TLS only.
// Neither errors nor SELECT output ever contain a password or a hash.
//
// Config scripts:
// - Statements end at `;` or at a newline (outside quotes and parentheses) followed by a word
//   that starts a statement (INSERT, SELECT, CREATE, GRANT, ...; SET only as SET PASSWORD), so
//   one statement per line works without `;` and a statement may still span lines. `--` and
//   `/* */` comments are dropped; COMMIT, BEGIN and USE CONFIG are ignored.
// - INSERT/UPDATE/DELETE on `groups` and `nodes` and SELECT on `groups`, `nodes`, `users`
//   (names only) and `grants` (user, actor_type, rights as 'read', 'write' or 'read,write') run
//   in a scratch SQLite database holding the config; any other SQL is NotPermitted.
// - CREATE USER 'u' IDENTIFIED [WITH plugin] BY 'pw' | DROP USER 'u'[, ...]
//   | SET PASSWORD FOR 'u' = 'pw' (or = PASSWORD('pw')) | ALTER USER 'u' IDENTIFIED [WITH plugin]
//   BY 'pw' | GRANT rights ON type|* TO 'u'
//   | REVOKE rights ON type|* FROM 'u', where rights is read, write, read,write or all
//   [privileges], and 'u' may be 'u'@'host' (host ignored). Names are '...', "...", `...` or bare
//   words; passwords are quoted and non-empty. plugin is mysql_native_password (a native
//   password) or caching_sha2_password (a caching_sha2 one); without WITH, CREATE makes a native
//   password and ALTER/SET PASSWORD keep the user's kind.
// - The first script (the init, run on an uninitialized config) gives each user it creates
//   read,write on `*` unless it grants or revokes something for that user itself.
// - After every script the config must keep at least one group, one node and one admin (a user
//   with read,write on `*`); the init must also list the local node. Errors start with ActorDB's
//   names: MissingGroupInsert, MissingNodesInsert, MissingRootUser, LocalNodeMissing.
// - A node name looks like name@host; its group must exist. A script is all or nothing.
//
// Binary format (encodeAccessConfig; integers big-endian, str = u32 length + bytes; also in
// resources/docs/formats.md):
//   "TCFG"  u8 version (2)  u8 flags (bit 0: initialized)
//   u32 groupCount, per group:  str name, str type
//   u32 nodeCount,  per node:   str name, str group
//   u32 userCount,  per user:   str name, u8 kind, then
//                                 kind 0 (native):       str nativeHash (20 bytes),
//                                                        str salt (16 bytes), str sha256Hash (32)
//                                 kind 1 (caching_sha2): u32 iterations, str salt (16 bytes),
//                                                        str pbkdf2Hash (32 bytes)
//                               u32 grantCount, per grant: str actorType, u8 rights
//                               (bit 0 read, bit 1 write; never 0)
// Version 1 (still read, never written) had no kind byte: every user was native.
// Lists are written sorted by name (grants by actorType); the decoder re-sorts them and answers
// Corruption, never a crash, for duplicates, bad hash sizes, empty grants, nodes outside their
// groups, unknown versions or flags, truncation and bytes after the last user.

#include <cstdint>
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

// How a user's password is kept, and so which logins can check it (top of this file).
enum class PasswordKind : std::uint8_t {
    Native = 0,      // SHA1(SHA1(pw)) and SHA-256(salt + pw)
    CachingSha2 = 1, // PBKDF2-HMAC-SHA256 only
};

// PBKDF2 iterations of a new caching_sha2 password. Stored per user, so changing it affects
// only passwords set afterwards; decoding refuses fewer than kMinPbkdf2Iterations.
inline constexpr std::uint32_t kPbkdf2Iterations = 100000;
inline constexpr std::uint32_t kMinPbkdf2Iterations = 1000;

struct UserRecord {
    std::string name;
    PasswordKind kind = PasswordKind::Native;
    std::string nativeHash;       // Native: SHA1(SHA1(password)), 20 raw bytes; else empty
    std::string salt;             // 16 random bytes
    std::uint32_t iterations = 0; // CachingSha2: PBKDF2 iterations; Native: 0
    std::string sha256Hash; // Native: SHA-256(salt + password); CachingSha2: PBKDF2-HMAC-SHA256
                            // (password, salt, iterations); 32 raw bytes either way
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
Result<UserRecord> makeUser(std::string_view name, std::string_view password,
                            PasswordKind kind = PasswordKind::Native);

// The MySQL plugin name of a kind ("mysql_native_password", "caching_sha2_password").
std::string_view pluginName(PasswordKind kind);

// A config script with every password literal replaced by '***' (for the audit log): the
// literal after BY in CREATE/ALTER USER, after = or inside PASSWORD() in SET PASSWORD. A script
// that cannot be split (an unterminated quote) becomes "<unparsable script, N bytes>".
std::string redactPasswords(std::string_view script);

// Plain-password check against the stored salted hash (SHA-256 or PBKDF2), in constant time.
bool verifyPassword(const UserRecord& user, std::string_view password);
// mysql_native_password: scramble = SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw))). False unless both
// are 20 bytes, and always for a caching_sha2 user (no SHA1(SHA1(pw)) is kept).
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
