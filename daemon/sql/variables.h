#pragma once

// {{...}} variables inside SQL text (MISSION §2): {{curactor}}, {{uniqid}}, {{uniqid.x}},
// {{hash(key)}}, {{X.col}}. The caller resolves a marker's body to a value; this module puts
// the value into the text so that it can only ever be a value: inside a '...' string its text
// goes in with quotes doubled, anywhere else as a complete SQL literal ('it''s', 12, NULL,
// X'00'). A result value can therefore never inject SQL. Pure; any thread.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "sql/value.h"

namespace troupe::sql {

// Resolves a marker body ("curactor", "uniqid.x", "hash('k')", "X.col"); nested markers in
// the body are already substituted.
using VariableResolver = std::function<Result<Value>(std::string_view body)>;

// True if `sql` holds a {{ marker.
bool hasVariables(std::string_view sql);

// Substitutes every marker. Errors: InvalidArgument for an unterminated marker, or whatever
// the resolver returns.
Result<std::string> substituteVariables(std::string_view sql, const VariableResolver& resolve);

// The argument of a {{hash(...)}} body: the key text, unquoted. nullopt if `body` is not a
// hash call.
std::optional<std::string> hashArgument(std::string_view body);

} // namespace troupe::sql
