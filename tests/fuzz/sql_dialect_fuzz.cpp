// libFuzzer target for the ActorDB-dialect text parsers of daemon/sql: the request segmenter
// (segmenter.h), the statement classifier and literals (statements.h) and {{...}} variables
// (variables.h). Pure text functions, so every input runs fast. The first byte picks a mode
// (by value modulo 4); the rest is the text.
//
// Invariants beyond "no crash, no leak, no sanitizer report":
//   0 segment(): every statement is non-empty, trimmed and not only comments; the statements
//     appear in the request in order without overlap; rendering the blocks back as a request
//     (ACTOR statements written from the parsed targets, statements joined by `;`) segments
//     to the same blocks. Each statement is classified (and read-only checked) too.
//   1 parseActorStatement(): a parsed target rendered back parses to the same target.
//   2 parseLiteral(): sqlLiteral() of the value parses back to the same value and type; a
//     non-finite REAL becomes a literal SQLite reads as that value (9e999, -9e999, NULL).
//   3 substituteVariables() with a resolver that answers every marker with a value chosen by
//     the marker: text without markers is unchanged; each marker body goes through
//     hashArgument() and classifyStatement().
//
// Built twice: troupe-fuzz-sql-dialect with libFuzzer (the fuzz preset), and
// fuzz_sql_dialect_replay with replay_main.cpp, which CTest runs over corpus/sql_dialect/.

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.h"
#include "sql/segmenter.h"
#include "sql/sql_text.h"
#include "sql/statements.h"
#include "sql/variables.h"

using namespace troupe;
using namespace troupe::fuzz;
using namespace troupe::sql;

namespace {

// Keeps the quadratic corners (rendering, re-segmenting) cheap.
constexpr std::size_t kMaxText = 64 * 1024;

std::string quoteName(std::string_view name) {
    std::string out(1, '\'');
    for (char c : name) {
        out += c;
        if (c == '\'')
            out += '\'';
    }
    return out + "'";
}

// The ACTOR statement that parseActorStatement() reads as `t`.
std::string renderTarget(const ActorTarget& t) {
    std::string inner;
    switch (t.kind) {
    case ActorTarget::Kind::Single:
    case ActorTarget::Kind::List:
        for (std::size_t i = 0; i < t.names.size(); ++i)
            inner += (i ? "," : "") + quoteName(t.names[i]);
        break;
    case ActorTarget::Kind::All:
        inner = "*";
        break;
    case ActorTarget::Kind::AllWhere:
        inner = "* WHERE id LIKE " + quoteName(t.likePattern);
        break;
    case ActorTarget::Kind::ForEach:
        inner = "FOR " + t.variable + "." + t.column + " IN " + t.result;
        break;
    case ActorTarget::Kind::None:
        break;
    }
    std::string out = "ACTOR " + t.type + "(" + inner + ")";
    out += t.create ? " create" : "";
    out += t.safe ? " safe" : "";
    out += t.fsync ? " fsync" : "";
    return out;
}

bool sameTarget(const ActorTarget& a, const ActorTarget& b) {
    return a.kind == b.kind && a.type == b.type && a.names == b.names &&
           a.likePattern == b.likePattern && a.variable == b.variable && a.column == b.column &&
           a.result == b.result && a.create == b.create && a.safe == b.safe && a.fsync == b.fsync;
}

bool sameBlocks(const std::vector<Block>& a, const std::vector<Block>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!sameTarget(a[i].target, b[i].target) || a[i].statements != b[i].statements)
            return false;
    }
    return true;
}

void checkStatement(std::string_view stmt) {
    TROUPE_FUZZ_CHECK(!stmt.empty() && trim(stmt) == stmt);
    TROUPE_FUZZ_CHECK(skipBlank(stmt, 0) < stmt.size());
    (void)classifyStatement(stmt);
    (void)isReadOnlyStatement(stmt);
}

void fuzzSegment(std::string_view text) {
    auto blocks = segment(text);
    if (!blocks)
        return;
    std::size_t cursor = 0;
    std::vector<std::string> pieces;
    for (const Block& block : *blocks) {
        if (block.target.kind != ActorTarget::Kind::None)
            pieces.push_back(renderTarget(block.target));
        for (const std::string& stmt : block.statements) {
            checkStatement(stmt);
            const std::size_t at = text.find(stmt, cursor);
            TROUPE_FUZZ_CHECK(at != std::string_view::npos);
            cursor = at + stmt.size();
            pieces.push_back(stmt);
        }
    }
    // Unterminated comments and trigger bodies run to the end of the text: only the last
    // statement can have one, and nothing is written after it.
    std::string again;
    for (std::size_t i = 0; i < pieces.size(); ++i)
        again += (i ? "\n;\n" : "") + pieces[i];
    auto reparsed = segment(again);
    if (!reparsed)
        std::fprintf(stderr, "re-segmenting failed: %s\n", reparsed.status().message().c_str());
    TROUPE_FUZZ_CHECK(reparsed.isOk() && sameBlocks(*blocks, *reparsed));
}

void fuzzActorStatement(std::string_view text) {
    auto target = parseActorStatement(text);
    if (!target)
        return;
    const std::string rendered = renderTarget(*target);
    auto again = parseActorStatement(rendered);
    if (!again)
        std::fprintf(stderr, "%s: %s\n", rendered.c_str(), again.status().message().c_str());
    TROUPE_FUZZ_CHECK(again.isOk() && sameTarget(*target, *again));
}

void fuzzLiteral(std::string_view text) {
    auto value = parseLiteral(text);
    if (!value)
        return;
    const std::string literal = sqlLiteral(*value);
    if (const auto* d = std::get_if<double>(&*value); d && !std::isfinite(*d)) {
        TROUPE_FUZZ_CHECK(literal == (std::isnan(*d) ? "NULL" : *d > 0 ? "9e999" : "-9e999"));
        return;
    }
    auto again = parseLiteral(literal);
    if (!again || !(*again == *value))
        std::fprintf(stderr, "literal %s does not read back\n", literal.c_str());
    TROUPE_FUZZ_CHECK(again.isOk() && *again == *value);
}

void fuzzVariables(std::string_view text) {
    const VariableResolver resolve = [](std::string_view body) -> Result<Value> {
        (void)hashArgument(body);
        (void)classifyStatement(body);
        switch (body.size() % 6) {
        case 0:
            return Value{std::string(body)};
        case 1:
            return Value{std::int64_t(body.size())};
        case 2:
            return Value{double(body.size()) / 4};
        case 3:
            return Value{Blob{std::string(body)}};
        case 4:
            return Value{};
        default:
            return Status(ErrorCode::InvalidArgument, "no such variable");
        }
    };
    auto out = substituteVariables(text, resolve);
    if (!hasVariables(text))
        TROUPE_FUZZ_CHECK(out.isOk() && *out == text);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzInput in(data, size);
    const std::uint8_t mode = in.byte() % 4;
    const std::string_view text = in.bytes(kMaxText);
    switch (mode) {
    case 0:
        fuzzSegment(text);
        break;
    case 1:
        fuzzActorStatement(text);
        break;
    case 2:
        fuzzLiteral(text);
        break;
    default:
        fuzzVariables(text);
        break;
    }
    return 0;
}
