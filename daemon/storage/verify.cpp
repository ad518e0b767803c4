// Verify: the walk over every record (see verify.h).

#include "storage/verify.h"

#include <array>
#include <ostream>

#include "core/bytes.h"
#include "storage/log_entry.h"
#include "storage/mdb_util.h"
#include "storage/page_codec.h"
#include "storage/sealed_db.h"

namespace troupe::storage {

namespace {

constexpr std::size_t kCatalogRecordSize = 1 + 8 + 4 + 1;
constexpr std::size_t kHardStateSize = 1 + 4 * 8;

// Whether a checked payload decodes as what its database holds; the reason when not.
std::string decodeProblem(RecordDb db, std::string_view key, std::string_view payload) {
    switch (db) {
    case RecordDb::Pages: {
        if (key.size() != 12)
            return "key is not 12 bytes";
        if (getBigEndian32(key.data() + 8) == 0)
            return payload.size() == 5 && payload[0] == 1 ? "" : "malformed actor header";
        std::array<std::uint8_t, kPageSize> page;
        Status s = decodePage(payload, page.data());
        return s ? "" : s.message();
    }
    case RecordDb::Actors:
        if (key.empty() || key.size() < 1 + std::size_t(std::uint8_t(key[0])))
            return "catalog key is truncated";
        return payload.size() == kCatalogRecordSize && payload[0] == 1 ? "" : "malformed record";
    case RecordDb::RaftLog: {
        if (key.size() != 12)
            return "key is not 12 bytes";
        if (payload.size() < 9)
            return "record is truncated";
        if (payload[8] != 0)
            return ""; // Raft's own record types: the core checks them
        Result<LogEntry> entry = decodeLogEntry(payload.substr(9));
        return entry ? "" : entry.status().message();
    }
    case RecordDb::RaftState:
        if (key.size() == 4 &&
            (payload.size() < kHardStateSize || (payload[0] != 1 && payload[0] != 2)))
            return "malformed raft state";
        return key.size() == 4 || key.size() == 5 ? "" : "unexpected key";
    case RecordDb::Meta:
        return "";
    }
    return "";
}

void addError(VerifyReport& report, VerifyDbStats& stats, const std::string& message) {
    ++stats.errors;
    if (report.errors.size() < kMaxListedErrors)
        report.errors.push_back(stats.name + ": " + message);
}

void verifyDb(const Environment& env, MDB_txn* txn, RecordDb db, VerifyReport& report,
              VerifyDbStats& stats, const VerifyProgress& progress) {
    detail::Cursor cursor;
    if (Status s = cursor.open(txn, dbiOf(env, db)); !s)
        return addError(report, stats, s.message());
    MDB_val key;
    MDB_val val;
    int rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_FIRST);
    for (; rc == 0; rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_NEXT)) {
        ++stats.records;
        if (progress && stats.records % kVerifyProgressStep == 0)
            progress(stats.name, stats.records);
        const std::string_view k = detail::toView(key);
        const std::string_view v = detail::toView(val);
        if (db == RecordDb::Meta && k == "format_version")
            continue; // checked when the environment opened
        if (!looksSealed(v) && env.legacyRecords())
            ++stats.legacy;
        Result<std::string_view> payload = unsealRecord(db, k, v, env.legacyRecords());
        if (!payload) {
            addError(report, stats, payload.status().message());
            continue;
        }
        if (std::string problem = decodeProblem(db, k, *payload); !problem.empty())
            addError(report, stats, describeRecordKey(db, k) + ": " + problem);
    }
    if (rc != MDB_NOTFOUND) // LMDB's own structures are damaged: the rest is unreachable
        addError(report, stats,
                 Environment::fromMdb(rc, "walking the B-tree (stopped here)").message());
    if (progress)
        progress(stats.name, stats.records);
}

} // namespace

std::uint64_t VerifyReport::records() const {
    std::uint64_t n = 0;
    for (const VerifyDbStats& d : dbs)
        n += d.records;
    return n;
}

std::uint64_t VerifyReport::errorCount() const {
    std::uint64_t n = 0;
    for (const VerifyDbStats& d : dbs)
        n += d.errors;
    return n;
}

VerifyReport verifyRecords(const Environment& env, MDB_txn* txn, const VerifyProgress& progress) {
    VerifyReport report;
    report.formatVersion = env.formatVersion();
    for (RecordDb db : {RecordDb::Actors, RecordDb::Pages, RecordDb::RaftLog, RecordDb::RaftState,
                        RecordDb::Meta}) {
        VerifyDbStats stats;
        stats.name = std::string(recordDbName(db));
        verifyDb(env, txn, db, report, stats, progress);
        report.dbs.push_back(std::move(stats));
    }
    return report;
}

int runVerifyCommand(const std::filesystem::path& dir, std::ostream& out, std::ostream& err) {
    EnvironmentOptions options;
    options.readOnly = true;
    Result<std::unique_ptr<Environment>> env = Environment::open(dir, options);
    if (!env) {
        err << "troupe-server verify: cannot open " << dir.string() << ": "
            << env.status().toString() << std::endl;
        return 1;
    }
    Result<ReadTxn> txn = (*env)->beginRead();
    if (!txn) {
        err << "troupe-server verify: " << txn.status().toString() << std::endl;
        return 1;
    }
    VerifyReport report =
        verifyRecords(**env, txn->get(), [&](std::string_view db, std::uint64_t n) {
            err << "verify: " << db << ": " << n << " records checked" << std::endl;
        });
    out << "data directory " << dir.string() << " (on-disk format " << report.formatVersion
        << ")\n";
    for (const VerifyDbStats& d : report.dbs) {
        out << "  " << d.name << ": " << d.records << " records, " << d.errors << " errors";
        if (d.legacy)
            out << ", " << d.legacy << " without checksum (format 1)";
        out << "\n";
    }
    for (const std::string& e : report.errors)
        out << "  error: " << e << "\n";
    if (report.errorCount() > report.errors.size())
        out << "  ... and " << report.errorCount() - report.errors.size() << " more errors\n";
    out << (report.clean() ? "OK: " : "CORRUPTION: ") << report.records() << " records checked, "
        << report.errorCount() << " errors" << std::endl;
    return report.clean() ? 0 : 1;
}

int runVerifyCommandLine(const std::vector<std::string>& args, std::ostream& out,
                         std::ostream& err) {
    const std::string usage = "usage: troupe-server verify --data-dir DIR\n";
    std::filesystem::path dir;
    for (std::size_t i = 2; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            out << usage
                << "Checks every stored record (checksums and decoding) read-only; "
                   "exit code 0 clean, 1 corruption found.\n";
            return 0;
        }
        if (a == "--data-dir" && i + 1 < args.size())
            dir = args[++i];
        else if (a.rfind("--data-dir=", 0) == 0)
            dir = a.substr(11);
        else {
            err << "troupe-server verify: unexpected argument '" << a << "'\n" << usage;
            return 2;
        }
    }
    if (dir.empty()) {
        err << "troupe-server verify: --data-dir is required\n" << usage;
        return 2;
    }
    return runVerifyCommand(dir, out, err);
}

} // namespace troupe::storage
