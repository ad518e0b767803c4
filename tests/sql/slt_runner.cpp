#include "slt_runner.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

namespace troupe::slt {

namespace {

constexpr std::size_t kMaxFailures = 40;
constexpr std::size_t kMaxRowsShown = 40;

const char* const kInitScript = "INSERT INTO groups VALUES ('grp1','cluster');\n"
                                "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');\n"
                                "CREATE USER 'root' IDENTIFIED BY 'rootpass';";

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string indent(const std::string& text) {
    std::string out = "    ";
    for (char c : text) {
        out += c;
        if (c == '\n')
            out += "    ";
    }
    return out;
}

std::string statusText(const Status& status) {
    return errorCodeCamelName(status.code()) + ": " + status.message();
}

char typeLetter(const sql::Value& value) {
    switch (value.index()) {
    case 1:
        return 'I';
    case 2:
        return 'R';
    case 3:
        return 'T';
    case 4:
        return 'B';
    default:
        return 'N';
    }
}

std::vector<std::string> splitExpected(const std::string& line, std::size_t columns) {
    if (columns <= 1)
        return {line};
    std::vector<std::string> cells;
    if (line.find('\t') != std::string::npos) {
        std::size_t start = 0;
        for (;;) {
            const std::size_t tab = line.find('\t', start);
            cells.push_back(line.substr(start, tab - start));
            if (tab == std::string::npos)
                break;
            start = tab + 1;
        }
        return cells;
    }
    // No tab: runs of two or more spaces separate the cells.
    std::size_t start = 0;
    for (;;) {
        const std::size_t gap = line.find("  ", start);
        cells.push_back(line.substr(start, gap - start));
        if (gap == std::string::npos)
            break;
        start = line.find_first_not_of(' ', gap);
        if (start == std::string::npos) {
            cells.back() += line.substr(gap); // trailing spaces belong to the last cell
            break;
        }
    }
    return cells;
}

// An expected cell that matches any value.
const std::string kAnyCell = "(any)";

bool cellsMatch(const std::vector<std::string>& expected, const std::vector<std::string>& actual) {
    if (expected.size() != actual.size())
        return false;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        if (expected[i] != kAnyCell && expected[i] != actual[i])
            return false;
    }
    return true;
}

std::string join(const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i)
            out += '\t';
        out += cells[i];
    }
    return out;
}

std::string showRows(const std::vector<std::string>& rows) {
    if (rows.empty())
        return "    (no rows)";
    std::string out;
    for (std::size_t i = 0; i < rows.size() && i < kMaxRowsShown; ++i)
        out += (i ? "\n    " : "    ") + rows[i];
    if (rows.size() > kMaxRowsShown)
        out += "\n    ... " + std::to_string(rows.size() - kMaxRowsShown) + " more rows";
    return out;
}

std::string describeValues(const std::vector<sql::Value>& params) {
    std::vector<std::string> cells;
    for (const auto& v : params)
        cells.push_back(formatValue(v));
    return join(cells);
}

sql::ExecResult oneColumn(std::string name, const std::vector<std::string>& values) {
    sql::ExecResult result;
    result.columns = {std::move(name)};
    for (const auto& v : values)
        result.rows.push_back({sql::Value{v}});
    return result;
}

std::vector<std::string> words(std::string_view line) {
    std::vector<std::string> out;
    std::istringstream in{std::string(line)};
    std::string w;
    while (in >> w)
        out.push_back(w);
    return out;
}

} // namespace

std::string formatValue(const sql::Value& value) {
    switch (value.index()) {
    case 0:
        return "NULL";
    case 1:
        return std::to_string(std::get<std::int64_t>(value));
    case 2: {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.12g", std::get<double>(value));
        return buf;
    }
    case 3: {
        const auto& s = std::get<std::string>(value);
        if (s.empty())
            return "(empty)";
        std::string out;
        for (char c : s) {
            if (c == '\t')
                out += "\\t";
            else if (c == '\n')
                out += "\\n";
            else if (c == '\r')
                out += "\\r";
            else
                out += c;
        }
        return out;
    }
    default: {
        const auto& bytes = std::get<sql::Blob>(value).bytes;
        if (bytes.empty())
            return "(empty)";
        static const char* const kHex = "0123456789abcdef";
        std::string out;
        for (unsigned char c : bytes) {
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
        return out;
    }
    }
}

Runner::Runner(std::filesystem::path dataDir, std::string fileLabel)
    : m_dataDir(std::move(dataDir)), m_label(std::move(fileLabel)) {}

Runner::~Runner() {
    if (m_db)
        m_db->shutdown();
}

std::string Runner::open() {
    sql::DatabaseOptions options;
    options.engine.dataDir = m_dataDir;
    options.engine.executorThreads = 2;
    auto db = sql::Database::open(options);
    if (!db)
        return "opening the database failed: " + statusText(db.status());
    m_db = std::move(*db);
    return {};
}

std::vector<std::string> Runner::run(const TestFile& file) {
    std::vector<std::string> failures;
    for (const auto& e : file.errors)
        failures.push_back(m_label + ":" + std::to_string(e.line) + ": malformed: " + e.message);
    if (std::string error = open(); !error.empty()) {
        failures.push_back(m_label + ": " + error);
        return failures;
    }
    std::vector<sql::Value> params;
    for (const Record& record : file.records) {
        std::string failure;
        bool fatal = false;
        switch (record.kind) {
        case Record::Kind::Params:
            params = record.params;
            continue;
        case Record::Kind::Session:
            failure = runSession(record);
            break;
        case Record::Kind::Restart:
            m_db->shutdown();
            m_db.reset();
            failure = open();
            fatal = !failure.empty();
            break;
        case Record::Kind::Init:
            failure = runInit();
            break;
        case Record::Kind::Statement:
            failure = runStatement(record, std::move(params));
            break;
        case Record::Kind::Query:
            failure = runQuery(record, std::move(params));
            break;
        }
        params.clear();
        if (failure.empty())
            continue;
        std::string message = m_label + ":" + std::to_string(record.line) + ": " + failure;
        if (!record.text.empty())
            message = m_label + ":" + std::to_string(record.line) + ":\n  request:\n" +
                      indent(record.text) + "\n  " + failure;
        failures.push_back(std::move(message));
        if (fatal)
            break;
        if (failures.size() >= kMaxFailures) {
            failures.push_back(m_label + ": too many failures, stopped");
            break;
        }
    }
    return failures;
}

std::string Runner::runSession(const Record& record) {
    if (record.sessionName == "default") {
        if (record.user)
            return "session default takes no user";
        m_session = sql::Session{};
        return {};
    }
    auto it = m_sessions.find(record.sessionName);
    if (it == m_sessions.end() || record.user) {
        sql::Session session{record.user ? *record.user : record.sessionName};
        it = m_sessions.insert_or_assign(record.sessionName, std::move(session)).first;
    }
    m_session = it->second;
    return {};
}

std::string Runner::runInit() {
    auto result = m_db->config(sql::Session{}, kInitScript);
    if (!result)
        return "init failed: " + statusText(result.status());
    return {};
}

Result<sql::ExecResult> Runner::call(Target target, const std::string& text,
                                     std::vector<sql::Value> params) {
    if (!params.empty() && target != Target::Query && target != Target::Api)
        return Status(ErrorCode::InvalidArgument, "[runner] params apply to query/api only");
    switch (target) {
    case Target::Query:
        return m_db->query(m_session, text, std::move(params));
    case Target::Config:
        return m_db->config(m_session, text);
    case Target::Schema:
        return m_db->schema(m_session, text);
    case Target::Script:
        return m_db->script(m_session, text);
    case Target::Api:
        return callApi(text, std::move(params));
    }
    return Status(ErrorCode::Internal, "[runner] unknown target");
}

// api bodies: `actor_types`, `actor_tables <type>`, `actor_columns <type> <table>`,
// `authenticate <user> <password>`, `uniqid`, `initialized`, and
// `single <type> <name> [create] [safe] [fsync]` with the SQL on the following lines.
Result<sql::ExecResult> Runner::callApi(const std::string& text, std::vector<sql::Value> params) {
    const std::size_t newline = text.find('\n');
    const std::vector<std::string> w = words(text.substr(0, newline));
    const std::string rest = newline == std::string::npos ? "" : text.substr(newline + 1);
    const std::string name = w.empty() ? "" : w[0];
    const auto bad = Status(ErrorCode::InvalidArgument, "[runner] bad api call: " + text);
    if (name == "actor_types" && w.size() == 1)
        return oneColumn("type", m_db->actorTypes());
    if (name == "actor_tables" && w.size() == 2) {
        auto tables = m_db->actorTables(w[1]);
        if (!tables)
            return tables.status();
        return oneColumn("table", *tables);
    }
    if (name == "actor_columns" && w.size() == 3) {
        auto columns = m_db->actorColumns(w[1], w[2]);
        if (!columns)
            return columns.status();
        sql::ExecResult result;
        result.columns = {"name", "type", "pk", "notnull"};
        for (const auto& c : *columns)
            result.rows.push_back(
                {c.name, c.declType, std::int64_t(c.primaryKey), std::int64_t(c.notNull)});
        return result;
    }
    if (name == "authenticate" && w.size() == 3) {
        if (Status s = m_db->authenticate(w[1], w[2]); !s)
            return s;
        return sql::ExecResult{};
    }
    if (name == "uniqid" && w.size() == 1) {
        auto id = m_db->uniqid();
        if (!id)
            return id.status();
        sql::ExecResult result;
        result.columns = {"uniqid"};
        result.rows.push_back({*id});
        return result;
    }
    if (name == "initialized" && w.size() == 1) {
        sql::ExecResult result;
        result.columns = {"initialized"};
        result.rows.push_back({std::int64_t(m_db->initialized())});
        return result;
    }
    if (name == "single" && w.size() >= 3) {
        sql::ExecFlags flags;
        for (std::size_t i = 3; i < w.size(); ++i) {
            if (w[i] == "create")
                flags.create = true;
            else if (w[i] == "safe")
                flags.safe = true;
            else if (w[i] == "fsync")
                flags.fsync = true;
            else
                return bad;
        }
        return m_db->querySingle(m_session, w[1], w[2], rest, flags, std::move(params));
    }
    return bad;
}

std::string Runner::runStatement(const Record& record, std::vector<sql::Value> params) {
    const std::string shownParams = describeValues(params);
    auto result = call(record.target, record.text, std::move(params));
    const std::string withParams =
        shownParams.empty() ? std::string() : " (params: " + shownParams + ")";
    if (!record.expectOk) {
        if (result)
            return "expected error " + errorCodeCamelName(record.expectedCode) +
                   ", but it succeeded" + withParams;
        const Status& s = result.status();
        if (s.code() != record.expectedCode)
            return "expected error " + errorCodeCamelName(record.expectedCode) + ", got " +
                   statusText(s) + withParams;
        if (!record.expectedMessage.empty() &&
            lower(s.message()).find(lower(record.expectedMessage)) == std::string::npos)
            return "expected the message to contain \"" + record.expectedMessage + "\", got " +
                   statusText(s) + withParams;
        return {};
    }
    if (!result)
        return "expected ok, got " + statusText(result.status()) + withParams;
    if (record.changed && result->rowsChanged != *record.changed)
        return "expected changed=" + std::to_string(*record.changed) + ", got " +
               std::to_string(result->rowsChanged);
    if (record.lastId && result->lastInsertRowid != *record.lastId)
        return "expected lastid=" + std::to_string(*record.lastId) + ", got " +
               std::to_string(result->lastInsertRowid);
    return {};
}

std::string Runner::runQuery(const Record& record, std::vector<sql::Value> params) {
    auto result = call(record.target, record.text, std::move(params));
    if (!result)
        return "expected rows, got " + statusText(result.status());
    const sql::ExecResult& r = *result;
    // `query *`: any columns, of any type.
    const bool anyColumns = record.types == "*";
    const std::size_t columns = anyColumns ? r.columns.size() : record.types.size();
    if (r.columns.size() != columns)
        return "expected " + std::to_string(columns) + " columns (" + record.types + "), got " +
               std::to_string(r.columns.size()) + ": " + join(r.columns);

    std::vector<std::string> expected = record.expected;
    if (record.colnames) {
        if (expected.empty())
            return "colnames: the first expected line must hold the column names";
        const std::vector<std::string> names = splitExpected(expected.front(), columns);
        if (names != r.columns)
            return "expected column names\n    " + join(names) + "\n  got\n    " + join(r.columns);
        expected.erase(expected.begin());
    }

    std::vector<std::string> actual;
    for (std::size_t row = 0; row < r.rows.size(); ++row) {
        if (r.rows[row].size() != columns)
            return "row " + std::to_string(row + 1) + " has " + std::to_string(r.rows[row].size()) +
                   " values for " + std::to_string(columns) + " columns";
        std::vector<std::string> cells;
        for (std::size_t c = 0; c < columns; ++c) {
            const sql::Value& v = r.rows[row][c];
            const char want = anyColumns ? '?' : record.types[c];
            const char got = typeLetter(v);
            if (want != '?' && got != 'N' && got != want)
                return "row " + std::to_string(row + 1) + " column " + std::to_string(c + 1) +
                       " (" + r.columns[c] + "): expected type " + want + ", got " + got +
                       " value " + formatValue(v);
            cells.push_back(formatValue(v));
        }
        actual.push_back(join(cells));
    }
    if (record.anyRows)
        return {};

    std::vector<std::vector<std::string>> expectedCells;
    for (const auto& line : expected)
        expectedCells.push_back(splitExpected(line, columns));
    // A column that is (any) in every expected row is masked in the actual rows too, so that
    // rowsort orders both sides alike.
    for (std::size_t c = 0; c < columns && !expectedCells.empty(); ++c) {
        bool wildcard = true;
        for (const auto& row : expectedCells)
            wildcard = wildcard && c < row.size() && row[c] == kAnyCell;
        if (!wildcard)
            continue;
        for (auto& row : actual) {
            std::vector<std::string> cells = splitExpected(row, columns);
            cells[c] = kAnyCell;
            row = join(cells);
        }
    }
    expected.clear();
    for (const auto& row : expectedCells)
        expected.push_back(join(row));
    if (record.rowsort) {
        std::sort(actual.begin(), actual.end());
        std::sort(expected.begin(), expected.end());
    }
    bool same = actual.size() == expected.size();
    for (std::size_t i = 0; same && i < actual.size(); ++i)
        same = cellsMatch(splitExpected(expected[i], columns), splitExpected(actual[i], columns));
    if (!same)
        return "expected rows\n" + showRows(expected) + "\n  got\n" + showRows(actual);
    return {};
}

} // namespace troupe::slt
