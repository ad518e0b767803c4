#pragma once

// Runs the records of one parsed .test file against a fresh sql::Database in a data directory
// the caller owns (tst_sqllogic gives each file a temporary one). Single-threaded: one Runner
// per file, used by the test thread only.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "slt_file.h"
#include "sql/database.h"

namespace troupe::slt {

class Runner {
public:
    Runner(std::filesystem::path dataDir, std::string fileLabel);
    ~Runner();

    // Runs every record in order; returns one message per failure ("file:line: ...").
    // Stops early when the database cannot be (re)opened or after too many failures.
    std::vector<std::string> run(const TestFile& file);

private:
    // Each returns an empty string on success, else the failure text (without location).
    std::string open();
    std::string runStatement(const Record& record, std::vector<sql::Value> params);
    std::string runQuery(const Record& record, std::vector<sql::Value> params);
    std::string runSession(const Record& record);
    std::string runInit();
    Result<sql::ExecResult> call(Target target, const std::string& text,
                                 std::vector<sql::Value> params);
    Result<sql::ExecResult> callApi(const std::string& text, std::vector<sql::Value> params);

    std::filesystem::path m_dataDir;
    std::string m_label;
    std::unique_ptr<sql::Database> m_db;
    sql::Session m_session;                         // the session records run as
    std::map<std::string, sql::Session> m_sessions; // named sessions seen so far
};

// How a value is printed for comparison with expected rows: NULL, integers in decimal, reals
// with up to 12 significant digits, text as is (\t \n \r escaped, "" as (empty)), blobs as
// lower-case hex ((empty) when empty).
std::string formatValue(const sql::Value& value);

} // namespace troupe::slt
