#pragma once

// The actor schema: for each actor type, the ordered list of SQL statements that build a fresh
// actor's database (ActorDB's `USE schema` scripts, MISSION §2). A type's version is the number
// of its statements; an actor at version v catches up by running statements [v, version).
//
// Pure module: no I/O besides scratch in-memory SQLite databases, no global state; any thread
// may call any function. A Schema is an immutable value; the owner publishes the current one as
// shared_ptr<const Schema> and replaces it with the result of applySchemaScript().
//
// Script syntax (the body after `USE schema`):
//   ACTOR name [KV] [;]        starts a type's section; keywords in any case; name [A-Za-z0-9_$]+
//   <statement> [;]            one statement per line, continued onto the next lines while it is
//                              unfinished: a CREATE TRIGGER until the END of its body, an open
//                              quote ('', "", ``, []) or block comment, unbalanced parentheses.
//                              Several `;`-separated statements may share a line.
//   COMMIT [;]                 ignored (any case)
//   -- comments, /* comments */ and blank lines are ignored between statements.
// Statements are kept as written: trimmed of surrounding whitespace and comments, without `;`.
//
// Persistent format (encodeSchema / decodeSchema), all integers big-endian:
//   u8   format version, 1
//   u64  revision
//   u32  number of types, then per type, in strictly increasing byte order of name:
//     u32  name length, then the name (at least one byte, all of [A-Za-z0-9_$])
//     u8   flags: bit 0 = KV type; the other bits are zero
//     u32  number of statements (at least 1), then per statement:
//       u32  length, then the statement text (UTF-8, as written in the script)
//   nothing after the last type.
// Any other input decodes to ErrorCode::Corruption.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace troupe::sql {

// One actor type: its name, whether it is a KV type (ActorDB's key-value actors, sharded by the
// `hash` column of table `actors`), and the statements that build it. Version =
// statements.size().
struct ActorType {
    std::string name;
    bool kv = false;
    std::vector<std::string> statements;

    bool operator==(const ActorType&) const = default;
};

class Schema;
struct SchemaChange;

Result<SchemaChange> applySchemaScript(const Schema& current, std::string_view script);
Result<Schema> decodeSchema(std::string_view data);

// All actor types. An immutable value: types are shared between copies, so copying is cheap.
// Only applySchemaScript() and decodeSchema() make non-empty schemas.
class Schema {
public:
    Schema() = default;

    // The type named exactly `type` (case-sensitive), or nullptr.
    const ActorType* find(std::string_view type) const;
    // All type names, sorted.
    std::vector<std::string> typeNames() const;
    // The number of statements of the type; 0 if unknown.
    std::uint32_t version(std::string_view type) const;
    // Bumped by 1 by every script that changes something; 0 for the empty schema.
    std::uint64_t revision() const { return m_revision; }
    bool empty() const { return m_types.empty(); }

    // The statements that bring an actor of the type from fromVersion to version(type), in
    // order; empty when it is up to date or the type is unknown.
    std::vector<std::string> migration(std::string_view type, std::uint32_t fromVersion) const;

    // Same revision and the same types with the same statements.
    bool operator==(const Schema& other) const;

private:
    using Types = std::map<std::string, std::shared_ptr<const ActorType>, std::less<>>;

    Schema(Types types, std::uint64_t revision) : m_types(std::move(types)), m_revision(revision) {}

    friend Result<SchemaChange> applySchemaScript(const Schema& current, std::string_view script);
    friend Result<Schema> decodeSchema(std::string_view data);

    Types m_types;
    std::uint64_t m_revision = 0;
};

// A type that a script created or extended: its statements from firstNewStatement on are new
// (0 for a new type).
struct ChangedType {
    std::string type;
    std::uint32_t firstNewStatement = 0;

    bool operator==(const ChangedType&) const = default;
};

struct SchemaChange {
    Schema schema;                    // the new schema (the current one when nothing changed)
    std::vector<ChangedType> changed; // sorted by type; empty when nothing changed
};

// Applies a `USE schema` script to `current` (see the syntax above). Append-only, as in ActorDB:
// for an existing type, if the script's statements begin with all the saved ones (compared
// ignoring insignificant whitespace), only the rest is new, so re-running a whole schema file
// changes nothing; a script that lists only the first saved statements adds nothing; if the
// first statement differs from the saved first one, all the script's statements are appended;
// a script that starts like the saved list and then diverges is an error. A type may appear in
// several sections (their statements are joined). A section with no statements is allowed only
// for an existing type. A type's KV-ness cannot change.
//
// Before anything is accepted, every changed type is built in a scratch in-memory database with
// foreign keys on: the saved statements, then the new ones. Statements that would break the
// actor model (ATTACH, DETACH, transaction control, VACUUM, PRAGMA, TEMP objects) are refused.
// A KV type must end with a table actors(id, hash, ...). An invalid script changes nothing.
//
// Errors name the script line where the offending statement starts and the statement:
// SqlError (SQLite refused it), NotPermitted (a refused statement), InvalidType (a bad ACTOR
// line), InvalidArgument (structure: statements before the first ACTOR, an unfinished last
// statement, divergence from the saved statements, a KV change, a KV type without actors).
Result<SchemaChange> applySchemaScript(const Schema& current, std::string_view script);

// The persistent form of a schema (see the format above).
std::string encodeSchema(const Schema& schema);
// Corruption for anything encodeSchema() cannot have produced.
Result<Schema> decodeSchema(std::string_view data);

// The whole schema as a script that applySchemaScript() accepts: `ACTOR name [KV]` lines, each
// followed by the type's statements, each ended with `;`.
std::string scriptOf(const Schema& schema);

// A column of a table, as PRAGMA table_info reports it.
struct ColumnInfo {
    std::string name;
    std::string declType; // as declared; empty when none
    bool primaryKey = false;
    bool notNull = false;

    bool operator==(const ColumnInfo&) const = default;
};

// The tables (not views, not indexes, not sqlite_*) of a fresh actor of the type, sorted.
// InvalidType for an unknown type.
Result<std::vector<std::string>> tablesOf(const Schema& schema, std::string_view type);

// The columns of a table of a fresh actor of the type, in declaration order. InvalidType for an
// unknown type, NotFound for an unknown table (matched without regard to case, as SQLite does).
Result<std::vector<ColumnInfo>> columnsOf(const Schema& schema, std::string_view type,
                                          std::string_view table);

// What a statement takes and returns in a fresh actor of a type, found by preparing it (without
// running it) in a scratch database: what MySQL's COM_STMT_PREPARE reports. InvalidType for an
// unknown type, SqlError when SQLite cannot prepare it there (unknown table, syntax).
struct StatementShape {
    int params = 0;
    std::vector<std::string> columns;
};
Result<StatementShape> describeStatement(const Schema& schema, std::string_view type,
                                         std::string_view sql);

} // namespace troupe::sql
