#pragma once

// Verify: walks every record of every database of an Environment in one read snapshot and
// checks it — its checksum (record_seal.h) and that it decodes (pages, catalog records, raft
// log entries, raft state) — without stopping at the first error. Used offline by
// `troupe-server verify --data-dir DIR` (runVerifyCommand) and online by the Thrift
// admin_verify call while the node serves. Reads only; any thread; the caller owns the snapshot.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <lmdb.h>

#include "storage/environment.h"

namespace troupe::storage {

struct VerifyDbStats {
    std::string name;          // "actors", "pages", "raftlog", "raftstate", "meta"
    std::uint64_t records = 0; // records checked
    std::uint64_t errors = 0;  // records (or B-tree walks) that failed
    std::uint64_t legacy = 0;  // format-1 records without a checksum (read-only old directory)
};

struct VerifyReport {
    std::uint32_t formatVersion = 0;
    std::vector<VerifyDbStats> dbs;
    // "pages: actor 7 page 3 fails its checksum (damaged data)", the first kMaxListedErrors.
    std::vector<std::string> errors;

    std::uint64_t records() const;
    std::uint64_t errorCount() const;
    bool clean() const { return errorCount() == 0; }
};

inline constexpr std::size_t kMaxListedErrors = 100;

// Called every kVerifyProgressStep records of a database and when it is done.
using VerifyProgress = std::function<void(std::string_view db, std::uint64_t records)>;
inline constexpr std::uint64_t kVerifyProgressStep = 100000;

VerifyReport verifyRecords(const Environment& env, MDB_txn* txn,
                           const VerifyProgress& progress = {});

// `troupe-server verify --data-dir DIR`: opens DIR read-only (a running server may keep
// serving), verifies, prints a progress line per database to `err` and the summary to `out`.
// Returns the exit code: 0 clean, 1 corruption found or the directory cannot be opened.
int runVerifyCommand(const std::filesystem::path& dir, std::ostream& out, std::ostream& err);

// The same from the command line `troupe-server verify --data-dir DIR` (args[0] is the program,
// args[1] "verify"); 2 with a usage line for anything else.
int runVerifyCommandLine(const std::vector<std::string>& args, std::ostream& out,
                         std::ostream& err);

} // namespace troupe::storage
