// PageStore: an actor's database file in the `pages` database (layout in page_store.h and
// resources/docs/formats.md). Stateless; runs in the caller's transaction.

#include "storage/page_store.h"

#include <cstring>
#include <string>

#include "core/bytes.h"
#include "storage/mdb_util.h"
#include "storage/page_codec.h"

namespace troupe::storage {

namespace {

constexpr std::uint8_t kHeaderVersion = 1;

std::string pageKey(std::uint64_t actorId, std::uint32_t pgno) {
    std::string key;
    key.reserve(12);
    putBigEndian64(key, actorId);
    putBigEndian32(key, pgno);
    return key;
}

// Deletes every record of `actorId` with pgno >= fromPgno.
Status deleteFrom(const Environment& env, MDB_txn* txn, std::uint64_t actorId,
                  std::uint32_t fromPgno) {
    detail::Cursor cursor;
    TROUPE_RETURN_IF_ERROR(cursor.open(txn, env.dbs().pages));
    std::string start = pageKey(actorId, fromPgno);
    MDB_val key = detail::toVal(start);
    MDB_val val;
    int rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_SET_RANGE);
    while (rc == 0) {
        if (key.mv_size != 12 || getBigEndian64(key.mv_data) != actorId)
            break;
        rc = mdb_cursor_del(cursor.get(), 0);
        if (rc != 0)
            return Environment::fromMdb(rc, "deleting page");
        // After a delete the cursor already sits on the next record; MDB_NEXT returns it.
        rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return Environment::fromMdb(rc, "scanning pages");
    return Status::ok();
}

} // namespace

Result<std::uint32_t> PageStore::dbSize(const Environment& env, MDB_txn* txn,
                                        std::uint64_t actorId) {
    std::string k = pageKey(actorId, 0);
    MDB_val key = detail::toVal(k);
    MDB_val val;
    int rc = mdb_get(txn, env.dbs().pages, &key, &val);
    if (rc == MDB_NOTFOUND)
        return std::uint32_t(0);
    if (rc != 0)
        return Environment::fromMdb(rc, "reading actor header");
    if (val.mv_size != 5 || static_cast<const std::uint8_t*>(val.mv_data)[0] != kHeaderVersion)
        return Status(ErrorCode::Corruption,
                      "actor " + std::to_string(actorId) + ": bad page header record");
    return getBigEndian32(static_cast<const char*>(val.mv_data) + 1);
}

Status PageStore::readPage(const Environment& env, MDB_txn* txn, std::uint64_t actorId,
                           std::uint32_t pgno, std::uint8_t* page) {
    if (pgno == 0)
        return Status(ErrorCode::InvalidArgument, "page numbers start at 1");
    Result<std::uint32_t> size = dbSize(env, txn, actorId);
    if (!size)
        return size.status();
    if (pgno > *size)
        return Status(ErrorCode::NotFound, "actor " + std::to_string(actorId) + ": page " +
                                               std::to_string(pgno) + " is beyond the size " +
                                               std::to_string(*size));
    std::string k = pageKey(actorId, pgno);
    MDB_val key = detail::toVal(k);
    MDB_val val;
    int rc = mdb_get(txn, env.dbs().pages, &key, &val);
    if (rc == MDB_NOTFOUND) {
        std::memset(page, 0, kPageSize);
        return Status::ok();
    }
    if (rc != 0)
        return Environment::fromMdb(rc, "reading page");
    Status s = decodePage(detail::toView(val), page);
    if (!s)
        return s.withContext("actor " + std::to_string(actorId) + " page " + std::to_string(pgno));
    return Status::ok();
}

Status PageStore::apply(const Environment& env, MDB_txn* txn, const WriteSet& ws,
                        std::uint64_t* bytesWritten) {
    std::uint64_t bytes = 0;
    for (const StoredPage& p : ws.pages) {
        if (p.pgno == 0 || p.pgno > ws.dbPages)
            continue; // outside the new size: dropped below anyway
        std::string k = pageKey(ws.actorId, p.pgno);
        MDB_val key = detail::toVal(k);
        MDB_val val = detail::toVal(p.stored);
        int rc = mdb_put(txn, env.dbs().pages, &key, &val, 0);
        if (rc != 0)
            return Environment::fromMdb(rc, "writing page");
        bytes += p.stored.size();
    }

    Result<std::uint32_t> oldSize = dbSize(env, txn, ws.actorId);
    if (!oldSize)
        return oldSize.status();
    if (*oldSize > ws.dbPages)
        TROUPE_RETURN_IF_ERROR(deleteFrom(env, txn, ws.actorId, ws.dbPages + 1));

    std::string header;
    header.push_back(char(kHeaderVersion));
    putBigEndian32(header, ws.dbPages);
    std::string k = pageKey(ws.actorId, 0);
    MDB_val key = detail::toVal(k);
    MDB_val val = detail::toVal(header);
    int rc = mdb_put(txn, env.dbs().pages, &key, &val, 0);
    if (rc != 0)
        return Environment::fromMdb(rc, "writing actor header");
    bytes += header.size();
    if (bytesWritten)
        *bytesWritten = bytes;
    return Status::ok();
}

Status PageStore::removeAll(const Environment& env, MDB_txn* txn, std::uint64_t actorId) {
    return deleteFrom(env, txn, actorId, 0);
}

} // namespace troupe::storage
