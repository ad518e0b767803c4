// Catalog: actor records in the `actors` database and the per-type counters and largest actor
// id in `meta` (layout in catalog.h and resources/docs/formats.md). Stateless; runs in the
// caller's transaction.

#include "storage/catalog.h"

#include <algorithm>

#include "core/bytes.h"
#include "storage/mdb_util.h"
#include "storage/page_store.h"
#include "storage/sealed_db.h"

namespace troupe::storage {

namespace {

constexpr std::uint8_t kRecordVersion = 1;
constexpr std::size_t kRecordSize = 1 + 8 + 4 + 1;
constexpr std::string_view kTotalCountKey = "actor_count";
constexpr std::string_view kTypeCountPrefix = "actor_count:";
constexpr std::string_view kMaxActorIdKey = "max_actor_id";

std::string describe(std::string_view type, std::string_view name) {
    return "actor " + std::string(type) + "(" + std::string(name) + ")";
}

// The record under `key` from its checked payload; a malformed one is reported as corruption.
Result<ActorRecord> decodeRecord(const Environment& env, std::string_view key,
                                 std::string_view value) {
    if (key.empty() || key.size() < 1 + std::size_t(std::uint8_t(key[0]))) {
        Status bad(ErrorCode::Corruption, "catalog key is truncated");
        env.reportCorruption(RecordDb::Actors, key, bad);
        return bad;
    }
    const std::size_t typeLen = std::uint8_t(key[0]);
    ActorRecord r;
    r.type = std::string(key.substr(1, typeLen));
    r.name = std::string(key.substr(1 + typeLen));
    if (value.size() != kRecordSize || std::uint8_t(value[0]) != kRecordVersion) {
        Status bad(ErrorCode::Corruption,
                   "catalog record of " + describe(r.type, r.name) + " is malformed");
        env.reportCorruption(RecordDb::Actors, key, bad);
        return bad;
    }
    r.id = getBigEndian64(value.data() + 1);
    r.hash = getBigEndian32(value.data() + 9);
    r.flags = std::uint8_t(value[13]);
    return r;
}

std::string encodeRecord(const ActorRecord& r) {
    std::string v;
    v.reserve(kRecordSize);
    v.push_back(char(kRecordVersion));
    putBigEndian64(v, r.id);
    putBigEndian32(v, r.hash);
    v.push_back(char(r.flags));
    return v;
}

// A u64 in `meta`; 0 when absent.
Result<std::uint64_t> readMetaU64(const Environment& env, MDB_txn* txn, std::string_view k) {
    Result<std::string_view> value = getSealed(env, txn, RecordDb::Meta, k);
    if (!value && value.status().code() == ErrorCode::NotFound)
        return std::uint64_t(0);
    if (!value)
        return value.status();
    if (value->size() != 8) {
        Status bad(ErrorCode::Corruption, "meta " + std::string(k) + " is malformed");
        env.reportCorruption(RecordDb::Meta, k, bad);
        return bad;
    }
    return getBigEndian64(value->data());
}

Status writeMetaU64(const Environment& env, MDB_txn* txn, std::string_view k, std::uint64_t v) {
    MDB_val key = detail::toVal(k);
    int rc = 0;
    if (v == 0 && k != kMaxActorIdKey) {
        rc = mdb_del(txn, env.dbs().meta, &key, nullptr);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    } else {
        std::string bytes;
        putBigEndian64(bytes, v);
        return putSealed(env, txn, RecordDb::Meta, k, bytes);
    }
    return rc == 0 ? Status::ok() : Environment::fromMdb(rc, "writing meta " + std::string(k));
}

Status addToCount(const Environment& env, MDB_txn* txn, std::string_view k, int delta) {
    Result<std::uint64_t> current = readMetaU64(env, txn, k);
    if (!current)
        return current.status();
    std::uint64_t next = *current;
    if (delta > 0)
        next += std::uint64_t(delta);
    else
        next -= std::min(next, std::uint64_t(-delta));
    return writeMetaU64(env, txn, k, next);
}

Status adjustCounts(const Environment& env, MDB_txn* txn, std::string_view type, int delta) {
    TROUPE_RETURN_IF_ERROR(addToCount(env, txn, kTotalCountKey, delta));
    return addToCount(env, txn, std::string(kTypeCountPrefix) + std::string(type), delta);
}

} // namespace

Status validateActorKey(std::string_view type, std::string_view name) {
    if (type.empty())
        return Status(ErrorCode::InvalidType, "actor type is empty");
    if (type.size() > kMaxTypeLength)
        return Status(ErrorCode::InvalidType,
                      "actor type is longer than " + std::to_string(kMaxTypeLength) + " bytes");
    if (name.empty())
        return Status(ErrorCode::EmptyActorName, "actor name is empty");
    if (name.size() > kMaxNameLength)
        return Status(ErrorCode::InvalidActorName,
                      "actor name is longer than " + std::to_string(kMaxNameLength) + " bytes");
    return Status::ok();
}

std::string encodeCatalogKey(std::string_view type, std::string_view name) {
    std::string key;
    key.reserve(1 + type.size() + name.size());
    key.push_back(char(std::uint8_t(type.size())));
    key.append(type);
    key.append(name);
    return key;
}

Result<ActorRecord> Catalog::find(const Environment& env, MDB_txn* txn, std::string_view type,
                                  std::string_view name) {
    TROUPE_RETURN_IF_ERROR(validateActorKey(type, name));
    const std::string k = encodeCatalogKey(type, name);
    Result<std::string_view> value = getSealed(env, txn, RecordDb::Actors, k);
    if (!value && value.status().code() == ErrorCode::NotFound)
        return Status(ErrorCode::NotFound, describe(type, name) + " does not exist");
    if (!value)
        return value.status();
    return decodeRecord(env, k, *value);
}

Result<std::vector<ActorRecord>> Catalog::list(const Environment& env, MDB_txn* txn,
                                               std::string_view type, std::string_view prefix,
                                               std::string_view afterName, std::size_t limit) {
    if (type.empty() || type.size() > kMaxTypeLength)
        return Status(ErrorCode::InvalidType, "invalid actor type for listing");
    std::vector<ActorRecord> out;
    if (limit == 0)
        return out;
    const std::string keyPrefix = encodeCatalogKey(type, prefix);
    const std::string start = encodeCatalogKey(type, std::max(prefix, afterName));

    detail::Cursor cursor;
    TROUPE_RETURN_IF_ERROR(cursor.open(txn, env.dbs().actors));
    MDB_val key = detail::toVal(start);
    MDB_val val;
    int rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_SET_RANGE);
    while (rc == 0 && out.size() < limit) {
        std::string_view k = detail::toView(key);
        if (k.substr(0, keyPrefix.size()) != keyPrefix)
            break;
        Result<std::string_view> value = openSealed(env, RecordDb::Actors, key, val);
        if (!value)
            return value.status();
        Result<ActorRecord> record = decodeRecord(env, k, *value);
        if (!record)
            return record.status();
        if (afterName.empty() || record->name != afterName)
            out.push_back(std::move(*record));
        rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return Environment::fromMdb(rc, "listing actors");
    return out;
}

Result<std::uint64_t> Catalog::count(const Environment& env, MDB_txn* txn, std::string_view type) {
    if (type.empty())
        return readMetaU64(env, txn, kTotalCountKey);
    return readMetaU64(env, txn, std::string(kTypeCountPrefix) + std::string(type));
}

Result<std::uint64_t> Catalog::maxActorId(const Environment& env, MDB_txn* txn) {
    return readMetaU64(env, txn, kMaxActorIdKey);
}

Status Catalog::put(const Environment& env, MDB_txn* txn, const ActorRecord& record) {
    TROUPE_RETURN_IF_ERROR(validateActorKey(record.type, record.name));
    const std::string k = encodeCatalogKey(record.type, record.name);
    Result<ActorRecord> old = find(env, txn, record.type, record.name);
    const bool existed = old.isOk();
    if (!old && old.status().code() != ErrorCode::NotFound)
        return old.status();
    if (existed && old->id != record.id) // replaced by a new actor: the old one's pages go
        TROUPE_RETURN_IF_ERROR(PageStore::removeAll(env, txn, old->id));
    TROUPE_RETURN_IF_ERROR(putSealed(env, txn, RecordDb::Actors, k, encodeRecord(record)));
    if (!existed)
        TROUPE_RETURN_IF_ERROR(adjustCounts(env, txn, record.type, +1));
    Result<std::uint64_t> maxId = maxActorId(env, txn);
    if (!maxId)
        return maxId.status();
    if (record.id > *maxId)
        TROUPE_RETURN_IF_ERROR(writeMetaU64(env, txn, kMaxActorIdKey, record.id));
    return Status::ok();
}

Status Catalog::remove(const Environment& env, MDB_txn* txn, std::string_view type,
                       std::string_view name) {
    Result<ActorRecord> record = find(env, txn, type, name);
    if (!record)
        return record.status();
    TROUPE_RETURN_IF_ERROR(PageStore::removeAll(env, txn, record->id));
    std::string k = encodeCatalogKey(type, name);
    MDB_val key = detail::toVal(k);
    int rc = mdb_del(txn, env.dbs().actors, &key, nullptr);
    if (rc != 0)
        return Environment::fromMdb(rc, "deleting " + describe(type, name));
    return adjustCounts(env, txn, type, -1);
}

} // namespace troupe::storage
