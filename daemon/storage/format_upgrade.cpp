// Environment::upgradeFormat: on-disk format 1 -> 2 (resources/docs/formats.md, "Record
// checksums"). A writable open of a format-1 directory seals every record that has no checksum,
// in transactions of kBatch records, then writes format_version 2. A crash in between leaves a
// format-1 directory whose records are partly sealed (both kinds are read at format 1); the next
// open goes on where it stopped. Runs on the opening thread, before anyone else has the
// Environment.

#include <string>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/log.h"
#include "storage/environment.h"
#include "storage/mdb_util.h"
#include "storage/sealed_db.h"

namespace troupe::storage {

namespace {

constexpr std::size_t kBatch = 1000;
constexpr std::string_view kFormatVersionKey = "format_version";

struct BatchOutcome {
    std::string lastKey; // where the next batch starts (after this key)
    bool finished = false;
    std::uint64_t sealed = 0;
};

// Seals up to kBatch unsealed records of `db` after `after` (from the start when `first`).
Status sealBatch(const Environment& env, MDB_txn* txn, RecordDb db, const std::string& after,
                 bool first, BatchOutcome* out) {
    *out = BatchOutcome{};
    std::vector<std::pair<std::string, std::string>> todo;
    {
        detail::Cursor cursor;
        TROUPE_RETURN_IF_ERROR(cursor.open(txn, dbiOf(env, db)));
        MDB_val key = detail::toVal(after);
        MDB_val val;
        int rc = mdb_cursor_get(cursor.get(), &key, &val, first ? MDB_FIRST : MDB_SET_RANGE);
        if (rc == 0 && !first && detail::toView(key) == after)
            rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_NEXT);
        std::size_t scanned = 0;
        for (; rc == 0 && scanned < kBatch; ++scanned) {
            const std::string_view k = detail::toView(key);
            const std::string_view v = detail::toView(val);
            const bool versionKey = db == RecordDb::Meta && k == kFormatVersionKey;
            if (!versionKey && !looksSealed(v))
                todo.emplace_back(std::string(k), std::string(v));
            out->lastKey.assign(k);
            rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_NEXT);
        }
        if (rc != 0 && rc != MDB_NOTFOUND)
            return Environment::fromMdb(rc, "reading records to upgrade");
        out->finished = rc == MDB_NOTFOUND;
    }
    for (const auto& [k, v] : todo)
        TROUPE_RETURN_IF_ERROR(putSealed(env, txn, db, k, v));
    out->sealed = todo.size();
    return Status::ok();
}

} // namespace

Status Environment::upgradeFormat() {
    auto logger = log::get("storage");
    logger->info("upgrading the on-disk format from version {} to {}: adding a checksum to "
                 "every record",
                 m_formatVersion, kFormatVersion);
    std::uint64_t total = 0;
    for (RecordDb db : {RecordDb::Actors, RecordDb::Pages, RecordDb::RaftLog, RecordDb::RaftState,
                        RecordDb::Meta}) {
        std::string after;
        bool first = true;
        for (;;) {
            BatchOutcome outcome;
            TROUPE_RETURN_IF_ERROR(
                write([&](MDB_txn* txn) {
                    return sealBatch(*this, txn, db, after, first, &outcome);
                }).withContext("upgrading database " + std::string(recordDbName(db))));
            total += outcome.sealed;
            if (outcome.finished)
                break;
            after = std::move(outcome.lastKey);
            first = false;
        }
    }
    std::string bytes;
    putBigEndian32(bytes, kFormatVersion);
    TROUPE_RETURN_IF_ERROR(write(
        [&](MDB_txn* txn) {
            return putSealed(*this, txn, RecordDb::Meta, kFormatVersionKey, bytes);
        },
        true));
    m_formatVersion = kFormatVersion;
    logger->info("on-disk format upgraded to version {}: {} records sealed", kFormatVersion, total);
    return Status::ok();
}

} // namespace troupe::storage
