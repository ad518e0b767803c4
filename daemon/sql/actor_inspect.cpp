#include "sql/actor_inspect.h"

#include <algorithm>
#include <string>

#include "core/bytes.h"
#include "storage/catalog.h"
#include "storage/mdb_util.h"
#include "storage/page_codec.h"
#include "storage/page_store.h"

namespace troupe::sql {

namespace {

// SQLite's database header keeps user_version at bytes 60..63 of page 1, big-endian.
constexpr std::size_t kUserVersionOffset = 60;

// The bytes of every stored page record of `actorId` (pgno >= 1), walking the `pages` keys
// (u64 id | u32 pgno, big-endian) from (id, 1).
Result<std::uint64_t> storedBytes(const storage::Environment& env, MDB_txn* txn,
                                  std::uint64_t actorId) {
    storage::detail::Cursor cursor;
    TROUPE_RETURN_IF_ERROR(cursor.open(txn, env.dbs().pages));
    std::string start;
    putBigEndian64(start, actorId);
    putBigEndian32(start, 1);
    MDB_val key = storage::detail::toVal(start);
    MDB_val val;
    std::uint64_t total = 0;
    int rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size == 12 && getBigEndian64(key.mv_data) == actorId) {
        total += val.mv_size;
        rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return storage::Environment::fromMdb(rc, "scanning pages");
    return total;
}

} // namespace

unsigned shardOfHash(std::uint32_t hash, unsigned shards) {
    return unsigned((std::uint64_t(hash) * std::max(1u, shards)) >> 32);
}

Result<ActorStorageInfo> inspectActor(Engine& engine, std::string_view type,
                                      std::string_view name) {
    TROUPE_RETURN_IF_ERROR(storage::validateActorKey(type, name));
    storage::Environment& env = engine.environment();
    auto txn = env.beginRead();
    if (!txn)
        return txn.status();
    auto record = storage::Catalog::find(env, txn->get(), type, name);
    if (!record)
        return record.status();
    ActorStorageInfo info;
    info.id = record->id;
    info.hash = record->hash;
    auto pages = storage::PageStore::dbSize(env, txn->get(), record->id);
    if (!pages)
        return pages.status();
    info.pages = *pages;
    info.fileBytes = std::uint64_t(*pages) * storage::kPageSize;
    auto bytes = storedBytes(env, txn->get(), record->id);
    if (!bytes)
        return bytes.status();
    info.storedBytes = *bytes;
    if (info.pages > 0) {
        std::uint8_t page[storage::kPageSize];
        TROUPE_RETURN_IF_ERROR(storage::PageStore::readPage(env, txn->get(), record->id, 1, page));
        info.schemaVersion = getBigEndian32(page + kUserVersionOffset);
    }
    return info;
}

} // namespace troupe::sql
