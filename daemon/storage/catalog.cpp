// Catalog: actor records in the `actors` database and the per-type counters and largest actor
// id in `meta` (layout in catalog.h and resources/docs/formats.md). Stateless; runs in the
// caller's transaction.

#include "storage/catalog.h"

#include <algorithm>

#include "core/bytes.h"
#include "storage/mdb_util.h"
#include "storage/page_store.h"

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

Result<ActorRecord> decodeRecord(std::string_view key, std::string_view value) {
    if (key.empty() || key.size() < 1 + std::size_t(std::uint8_t(key[0])))
        return Status(ErrorCode::Corruption, "catalog key is truncated");
    const std::size_t typeLen = std::uint8_t(key[0]);
    ActorRecord r;
    r.type = std::string(key.substr(1, typeLen));
    r.name = std::string(key.substr(1 + typeLen));
    if (value.size() != kRecordSize || std::uint8_t(value[0]) != kRecordVersion)
        return Status(ErrorCode::Corruption,
                      "catalog record of " + describe(r.type, r.name) + " is malformed");
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
    MDB_val key = detail::toVal(k);
    MDB_val val;
    int rc = mdb_get(txn, env.dbs().meta, &key, &val);
    if (rc == MDB_NOTFOUND)
        return std::uint64_t(0);
    if (rc != 0)
        return Environment::fromMdb(rc, "reading meta " + std::string(k));
    if (val.mv_size != 8)
        return Status(ErrorCode::Corruption, "meta " + std::string(k) + " is malformed");
    return getBigEndian64(val.mv_data);
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
        MDB_val val = detail::toVal(bytes);
        rc = mdb_put(txn, env.dbs().meta, &key, &val, 0);
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
    std::string k = encodeCatalogKey(type, name);
    MDB_val key = detail::toVal(k);
    MDB_val val;
    int rc = mdb_get(txn, env.dbs().actors, &key, &val);
    if (rc == MDB_NOTFOUND)
        return Status(ErrorCode::NotFound, describe(type, name) + " does not exist");
    if (rc != 0)
        return Environment::fromMdb(rc, "looking up " + describe(type, name));
    return decodeRecord(k, detail::toView(val));
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
        Result<ActorRecord> record = decodeRecord(k, detail::toView(val));
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
    std::string k = encodeCatalogKey(record.type, record.name);
    MDB_val key = detail::toVal(k);
    MDB_val val;
    int rc = mdb_get(txn, env.dbs().actors, &key, &val);
    const bool existed = rc == 0;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return Environment::fromMdb(rc, "looking up " + describe(record.type, record.name));
    if (existed) {
        Result<ActorRecord> old = decodeRecord(k, detail::toView(val));
        if (!old)
            return old.status();
        if (old->id != record.id) // replaced by a new actor: the old one's pages go
            TROUPE_RETURN_IF_ERROR(PageStore::removeAll(env, txn, old->id));
    }
    std::string v = encodeRecord(record);
    MDB_val value = detail::toVal(v);
    rc = mdb_put(txn, env.dbs().actors, &key, &value, 0);
    if (rc != 0)
        return Environment::fromMdb(rc, "writing " + describe(record.type, record.name));
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
