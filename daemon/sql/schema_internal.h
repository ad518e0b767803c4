#pragma once

// Internal to the schema module (schema.cpp, schema_script.cpp, schema_scratch.cpp): the parsed
// form of a `USE schema` script and the steps applySchemaScript() chains. Pure functions, like
// schema.h; any thread may call them.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sql/schema.h"

namespace troupe::sql::schema_detail {

// One statement of a script and the script line it starts on.
struct ScriptStatement {
    std::string text;
    int line = 0;
};

// One `ACTOR name [KV]` section and its statements.
struct Section {
    std::string type;
    bool kv = false;
    int line = 0;
    std::vector<ScriptStatement> statements;
};

// ---- schema_script.cpp: script text

// [A-Za-z0-9_$]+.
bool isTypeName(std::string_view name);
// The leading word of a statement that starts with a significant character, upper-cased.
std::string firstWord(std::string_view text);
// The statement for error messages: whitespace runs collapsed, long text cut.
std::string excerpt(std::string_view text);
// `code` with "line N: message (in "statement")".
Status lineError(ErrorCode code, int line, std::string_view message, std::string_view statement);

// The sections of a script, in script order (syntax in schema.h).
Result<std::vector<Section>> parseScript(std::string_view script);
// Joins the sections of each type, in order of type name.
Result<std::map<std::string, Section>> mergeSections(std::vector<Section> sections);
// The statements of `section` that are new for a type saved as `saved` (append-only rule in
// schema.h).
Result<std::vector<ScriptStatement>> newStatements(const ActorType& saved, const Section& section);

// ---- schema_scratch.cpp: scratch databases

// Runs a type's saved and new statements in a scratch database and checks the KV rule.
Status validateType(const ActorType& saved, const Section& section,
                    const std::vector<ScriptStatement>& fresh);

} // namespace troupe::sql::schema_detail
