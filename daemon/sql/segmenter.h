#pragma once

// The request segmenter: splits an ActorDB-dialect request (MISSION §2) into ACTOR blocks, each
// with its parsed target and its statements. Pure text processing: no SQLite, no I/O, no state,
// so any thread may call it. Later stages substitute {{...}} variables and run the statements.
//
// Rules:
// - Statements split on `;` outside '...', "...", `...`, [...], `--` and `/* */` comments,
//   {{...}} markers, and the BEGIN ... END body of CREATE TRIGGER. Text is kept as written
//   (comments and {{...}} included), trimmed of surrounding whitespace, without the `;`.
// - Statements holding only whitespace or comments are dropped. A last statement without a
//   trailing `;` counts.
// - Client transaction control is dropped, as ActorDB ignores it (the whole request is one
//   transaction): BEGIN [DEFERRED|IMMEDIATE|EXCLUSIVE] [TRANSACTION], COMMIT, END, ROLLBACK
//   (including ROLLBACK TO ...), SAVEPOINT x, RELEASE [SAVEPOINT] x.
// - A request with an ACTOR must start with one (else InvalidArgument). A request with no ACTOR
//   at all gives one Block whose target has an empty type and Kind::None; the caller decides
//   (for example `USE config` scripts). A request with no statements gives no blocks.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace troupe::sql {

// What an ACTOR statement addresses: `ACTOR type(...) [create] [safe] [fsync]`.
struct ActorTarget {
    enum class Kind {
        None,     // no ACTOR statement (see above)
        Single,   // type(name)
        List,     // type(name1,name2,...)
        All,      // type(*)
        AllWhere, // type(* WHERE id LIKE 'pfx%'): likePattern
        ForEach,  // type(FOR X.col IN NAME): variable, column, result
    };

    Kind kind = Kind::None;
    std::string type;
    std::vector<std::string> names; // Single and List, unquoted
    std::string likePattern;        // AllWhere, unquoted
    std::string variable;           // ForEach: X
    std::string column;             // ForEach: col
    std::string result;             // ForEach: NAME
    bool create = false;
    bool safe = false;
    bool fsync = false;
};

// One ACTOR statement and the statements that run in its actor(s).
struct Block {
    ActorTarget target;
    std::vector<std::string> statements;
};

inline constexpr std::size_t kDefaultMaxRequestBytes = 16u << 20;

// Splits a request into blocks. Errors: TooLarge (request over maxBytes), InvalidArgument
// (statements before the first ACTOR, unknown flag, unterminated {{), InvalidType,
// EmptyActorName, InvalidActorName, SqlError (unterminated quote). Messages name the culprit.
Result<std::vector<Block>> segment(std::string_view request,
                                   std::size_t maxBytes = kDefaultMaxRequestBytes);

// Refuses a name no actor may have, wherever names enter (ACTOR statements, single-actor calls,
// MySQL `USE type.name`, FOR loops): EmptyActorName when empty, InvalidActorName when it holds
// a control character (0x00-0x1F, 0x7F; resources/docs/security.md "malformed requests").
Status checkActorName(std::string_view name);

// Parses one ACTOR statement ("ACTOR type(name) create"), comments allowed.
Result<ActorTarget> parseActorStatement(std::string_view statement);

} // namespace troupe::sql
