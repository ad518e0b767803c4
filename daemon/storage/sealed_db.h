#pragma once

// Checked access to the Environment's databases: every value is written sealed (record_seal.h)
// and checked when read. A failed check is reported once to the Environment (log line and
// troupe_corruption_detected_total) and returned as Corruption naming the record, so no damaged
// value reaches a caller. Used by the storage sources only; runs in the caller's transaction.

#include <string_view>

#include <lmdb.h>

#include "core/status.h"
#include "storage/environment.h"
#include "storage/record_seal.h"

namespace troupe::storage {

MDB_dbi dbiOf(const Environment& env, RecordDb db);

// The checked payload of a value found by a cursor (or mdb_get). The view points into `txn`.
Result<std::string_view> openSealed(const Environment& env, RecordDb db, const MDB_val& key,
                                    const MDB_val& value);

// The checked payload under `key`; NotFound (message "<record> does not exist") when absent.
Result<std::string_view> getSealed(const Environment& env, MDB_txn* txn, RecordDb db,
                                   std::string_view key);

// Writes `payload` sealed under `key` (straight into LMDB's page, no copy).
Status putSealed(const Environment& env, MDB_txn* txn, RecordDb db, std::string_view key,
                 std::string_view payload);

} // namespace troupe::storage
