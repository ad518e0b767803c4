// PageStore: an actor's database file in the `pages` database (layout in page_store.h and
// resources/docs/formats.md). Stateless; runs in the caller's transaction.

#include "storage/page_store.h"

#include <cstring>
#include <string>

#include "core/bytes.h"
#include "storage/mdb_util.h"
#include "storage/page_codec.h"
#include "storage/sealed_db.h"

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
    const std::string k = pageKey(actorId, 0);
    Result<std::string_view> header = getSealed(env, txn, RecordDb::Pages, k);
    if (!header && header.status().code() == ErrorCode::NotFound)
        return std::uint32_t(0);
    if (!header)
        return header.status();
    if (header->size() != 5 || std::uint8_t((*header)[0]) != kHeaderVersion) {
        Status bad(ErrorCode::Corruption,
                   "actor " + std::to_string(actorId) + ": bad page header record");
        env.reportCorruption(RecordDb::Pages, k, bad);
        return bad;
    }
    return getBigEndian32(header->data() + 1);
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
    const std::string k = pageKey(actorId, pgno);
    Result<std::string_view> stored = getSealed(env, txn, RecordDb::Pages, k);
    if (!stored && stored.status().code() == ErrorCode::NotFound) {
        std::memset(page, 0, kPageSize);
        return Status::ok();
    }
    if (!stored)
        return stored.status();
    Status s = decodePage(*stored, page);
    if (!s) {
        s = s.withContext("actor " + std::to_string(actorId) + " page " + std::to_string(pgno));
        env.reportCorruption(RecordDb::Pages, k, s);
    }
    return s;
}

Status PageStore::apply(const Environment& env, MDB_txn* txn, const WriteSet& ws,
                        std::uint64_t* bytesWritten) {
    std::uint64_t bytes = 0;
    for (const StoredPage& p : ws.pages) {
        if (p.pgno == 0 || p.pgno > ws.dbPages)
            continue; // outside the new size: dropped below anyway
        TROUPE_RETURN_IF_ERROR(
            putSealed(env, txn, RecordDb::Pages, pageKey(ws.actorId, p.pgno), p.stored));
        bytes += p.stored.size() + kSealSize;
    }

    Result<std::uint32_t> oldSize = dbSize(env, txn, ws.actorId);
    if (!oldSize)
        return oldSize.status();
    if (*oldSize > ws.dbPages)
        TROUPE_RETURN_IF_ERROR(deleteFrom(env, txn, ws.actorId, ws.dbPages + 1));

    std::string header;
    header.push_back(char(kHeaderVersion));
    putBigEndian32(header, ws.dbPages);
    TROUPE_RETURN_IF_ERROR(putSealed(env, txn, RecordDb::Pages, pageKey(ws.actorId, 0), header));
    bytes += header.size() + kSealSize;
    if (bytesWritten)
        *bytesWritten = bytes;
    return Status::ok();
}

Status PageStore::removeAll(const Environment& env, MDB_txn* txn, std::uint64_t actorId) {
    return deleteFrom(env, txn, actorId, 0);
}

} // namespace troupe::storage
