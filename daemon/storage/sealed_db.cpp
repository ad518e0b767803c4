// Checked access to the Environment's databases (see sealed_db.h).

#include "storage/sealed_db.h"

#include "storage/mdb_util.h"

namespace troupe::storage {

MDB_dbi dbiOf(const Environment& env, RecordDb db) {
    const Databases& d = env.dbs();
    switch (db) {
    case RecordDb::Actors:
        return d.actors;
    case RecordDb::Pages:
        return d.pages;
    case RecordDb::RaftLog:
        return d.raftlog;
    case RecordDb::RaftState:
        return d.raftstate;
    case RecordDb::Meta:
        return d.meta;
    }
    return d.meta;
}

Result<std::string_view> openSealed(const Environment& env, RecordDb db, const MDB_val& key,
                                    const MDB_val& value) {
    const std::string_view k = detail::toView(key);
    Result<std::string_view> payload =
        unsealRecord(db, k, detail::toView(value), env.legacyRecords());
    if (!payload)
        env.reportCorruption(db, k, payload.status());
    return payload;
}

Result<std::string_view> getSealed(const Environment& env, MDB_txn* txn, RecordDb db,
                                   std::string_view key) {
    MDB_val k = detail::toVal(key);
    MDB_val v;
    const int rc = mdb_get(txn, dbiOf(env, db), &k, &v);
    if (rc == MDB_NOTFOUND)
        return Status(ErrorCode::NotFound, describeRecordKey(db, key) + " does not exist");
    if (rc != 0)
        return Environment::fromMdb(rc, "reading " + describeRecordKey(db, key));
    return openSealed(env, db, k, v);
}

Status putSealed(const Environment& env, MDB_txn* txn, RecordDb db, std::string_view key,
                 std::string_view payload) {
    MDB_val k = detail::toVal(key);
    MDB_val v{payload.size() + kSealSize, nullptr};
    const int rc = mdb_put(txn, dbiOf(env, db), &k, &v, MDB_RESERVE);
    if (rc != 0)
        return Environment::fromMdb(rc, "writing " + describeRecordKey(db, key));
    sealInto(db, key, payload, static_cast<char*>(v.mv_data));
    return Status::ok();
}

} // namespace troupe::storage
