#pragma once

// Conversions between the Thrift types of troupe.thrift and the query facade's: values,
// results, flags and errors. Pure functions: any thread.
//
// Error codes: ActorDB's ErrorCode numbers are not TroupeDB's ErrorCode values past 8 (ActorDB
// 1.4.0 has NoCreate = 15, NotInitialized = 14, LoginFailed = 13, Error = 100), so the mapping
// is explicit here; codes ActorDB has no name for are Error (100) with TroupeDB's message, which
// starts with the code's name ("too_large: ...").

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sql/database.h"
#include "troupe_idl/troupe_types.h"

namespace troupe::thrift {

// The generated types are troupe::thrift::gen (no alias here: clang rejects an alias that
// redefines the namespace it names).

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
// the earlier ones (?N becomes ?N+offset; anonymous ? and named parameters :a, @a, $a are
// numbered as SQLite does — by first appearance — and become ?N+offset too). A row binds by
// position, named parameters included, exactly as a single row does.
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

// The highest parameter number `sql` uses and the same SQL with every parameter written as
// ?N, its number (SQLite's numbering) raised by `offset`. InvalidArgument for a number over
// 6 digits.
struct Renumbered {
    std::string sql;
    int highest = 0;
};
Result<Renumbered> renumberParameters(std::string_view sql, int offset);

// The samples of a Prometheus text exposition (MetricsRegistry::renderPrometheus, /metrics) as
// name -> value: `# ...` lines and blank lines are skipped; a sample with labels keeps them in
// its name (`x{a="b"}`); lines without a number are skipped. NaN and +Inf/-Inf are kept.
std::map<std::string, double> parsePrometheusText(std::string_view text);

} // namespace troupe::thrift
