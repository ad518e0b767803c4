#pragma once

// Conversions between the Thrift types of troupe.thrift and the query facade's: values,
// results, flags and errors. Pure functions: any thread.
//
// Error codes: ActorDB's ErrorCode numbers are not TroupeDB's ErrorCode values past 8 (ActorDB
// 1.4.0 has NoCreate = 15, NotInitialized = 14, LoginFailed = 13, Error = 100), so the mapping
// is explicit here; codes ActorDB has no name for are Error (100) with TroupeDB's message, which
// starts with the code's name ("too_large: ...").

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sql/database.h"
#include "troupe_idl/troupe_types.h"

namespace troupe::thrift {

namespace gen = ::troupe::thrift::gen;

gen::ErrorCode::type thriftErrorCode(ErrorCode code);
gen::InvalidRequestException invalidRequest(const Status& status);

// A parameter: bval is 0 or 1, smallint and integer widen to 64 bits, isnull is NULL.
// InvalidArgument for a Val with no member set.
Result<sql::Value> fromVal(const gen::Val& val);
gen::Val toVal(const sql::Value& value);

// `create`, `safe`, `fsync` (any case); InvalidArgument for anything else.
Result<sql::ExecFlags> parseFlags(const std::vector<std::string>& flags);

gen::ReadResult readResult(const std::vector<std::string>& columns,
                           const std::vector<std::vector<sql::Value>>& rows);
// A request that returned columns is a read (rdRes), otherwise a write (wrRes).
gen::Result toResult(const sql::ExecResult& result);

// The SQL and parameters that run `sql` once per row of `rows` in one request: one row binds
// directly; several repeat the SQL, the parameters of repetition i renumbered past those of
// the earlier ones (?N becomes ?N+offset; anonymous ? are numbered as SQLite does). Named
// parameters (:a, @a, $a) work with one row only (InvalidArgument otherwise).
struct BoundSql {
    std::string sql;
    std::vector<sql::Value> params;
};
Result<BoundSql> bindRows(std::string_view sql, const std::vector<std::vector<gen::Val>>& rows);
// exec_single_batch_param: statement i runs once per row of rows[i] (once, unbound, when it has
// none). `repeats[i]` says how many statements of the result belong to statement i.
Result<BoundSql> bindStatements(const std::vector<std::string>& statements,
                                const std::vector<std::vector<std::vector<gen::Val>>>& rows,
                                std::vector<std::size_t>& repeats);

// The highest parameter number `sql` uses and the same SQL with every parameter number raised
// by `offset`. InvalidArgument for named parameters when offset > 0.
struct Renumbered {
    std::string sql;
    int highest = 0;
};
Result<Renumbered> renumberParameters(std::string_view sql, int offset);

} // namespace troupe::thrift
