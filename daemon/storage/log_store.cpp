// LogStore: Raft log records and hard state per shard (layout in log_store.h and
// resources/docs/formats.md), and crash recovery of committed but unapplied entries.

#include "storage/log_store.h"

#include <algorithm>

#include "core/bytes.h"
#include "core/log.h"
#include "storage/log_entry.h"
#include "storage/mdb_util.h"
#include "storage/writer.h"

namespace troupe::storage {

namespace {

constexpr std::uint8_t kHardStateVersion = 1;
constexpr std::size_t kHardStateSize = 1 + 4 * 8;

std::string logKey(std::uint32_t shard, std::uint64_t index) {
    std::string key;
    key.reserve(12);
    putBigEndian32(key, shard);
    putBigEndian64(key, index);
    return key;
}

std::string shardKey(std::uint32_t shard) {
    std::string key;
    putBigEndian32(key, shard);
    return key;
}

} // namespace

Status LogStore::append(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                        const RaftLogRecord& record) {
    std::string k = logKey(shard, record.index);
    std::string v;
    v.reserve(9 + record.payload.size());
    putBigEndian64(v, record.term);
    v.push_back(char(record.type));
    v += record.payload;
    MDB_val key = detail::toVal(k);
    MDB_val val = detail::toVal(v);
    int rc = mdb_put(txn, env.dbs().raftlog, &key, &val, 0);
    return rc == 0 ? Status::ok() : Environment::fromMdb(rc, "appending to raft log");
}

Result<std::vector<RaftLogRecord>> LogStore::read(const Environment& env, MDB_txn* txn,
                                                  std::uint32_t shard, std::uint64_t from,
                                                  std::uint64_t to) {
    std::vector<RaftLogRecord> out;
    if (from > to)
        return out;
    detail::Cursor cursor;
    TROUPE_RETURN_IF_ERROR(cursor.open(txn, env.dbs().raftlog));
    std::string start = logKey(shard, from);
    MDB_val key = detail::toVal(start);
    MDB_val val;
    int rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_SET_RANGE);
    while (rc == 0) {
        if (key.mv_size != 12 || getBigEndian32(key.mv_data) != shard)
            break;
        const std::uint64_t index = getBigEndian64(static_cast<const char*>(key.mv_data) + 4);
        if (index > to)
            break;
        if (val.mv_size < 9)
            return Status(ErrorCode::Corruption, "raft log record " + std::to_string(index) +
                                                     " of shard " + std::to_string(shard) +
                                                     " is truncated");
        const auto* p = static_cast<const char*>(val.mv_data);
        RaftLogRecord r;
        r.index = index;
        r.term = getBigEndian64(p);
        r.type = std::uint8_t(p[8]);
        r.payload.assign(p + 9, val.mv_size - 9);
        out.push_back(std::move(r));
        rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return Environment::fromMdb(rc, "reading raft log");
    return out;
}

Status LogStore::truncatePrefix(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                                std::uint64_t upTo) {
    detail::Cursor cursor;
    TROUPE_RETURN_IF_ERROR(cursor.open(txn, env.dbs().raftlog));
    std::string start = logKey(shard, 0);
    MDB_val key = detail::toVal(start);
    MDB_val val;
    int rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_SET_RANGE);
    while (rc == 0) {
        if (key.mv_size != 12 || getBigEndian32(key.mv_data) != shard ||
            getBigEndian64(static_cast<const char*>(key.mv_data) + 4) > upTo)
            break;
        rc = mdb_cursor_del(cursor.get(), 0);
        if (rc != 0)
            return Environment::fromMdb(rc, "truncating raft log");
        rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_NEXT); // the record after the deleted
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return Environment::fromMdb(rc, "truncating raft log");
    return Status::ok();
}

Result<HardState> LogStore::hardState(const Environment& env, MDB_txn* txn, std::uint32_t shard) {
    std::string k = shardKey(shard);
    MDB_val key = detail::toVal(k);
    MDB_val val;
    int rc = mdb_get(txn, env.dbs().raftstate, &key, &val);
    if (rc == MDB_NOTFOUND)
        return HardState{};
    if (rc != 0)
        return Environment::fromMdb(rc, "reading hard state");
    const auto* p = static_cast<const char*>(val.mv_data);
    if (val.mv_size != kHardStateSize || std::uint8_t(p[0]) != kHardStateVersion)
        return Status(ErrorCode::Corruption,
                      "hard state of shard " + std::to_string(shard) + " is malformed");
    HardState hs;
    hs.term = getBigEndian64(p + 1);
    hs.vote = getBigEndian64(p + 9);
    hs.commit = getBigEndian64(p + 17);
    hs.applied = getBigEndian64(p + 25);
    return hs;
}

Status LogStore::setHardState(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                              const HardState& state) {
    std::string k = shardKey(shard);
    std::string v;
    v.reserve(kHardStateSize);
    v.push_back(char(kHardStateVersion));
    putBigEndian64(v, state.term);
    putBigEndian64(v, state.vote);
    putBigEndian64(v, state.commit);
    putBigEndian64(v, state.applied);
    MDB_val key = detail::toVal(k);
    MDB_val val = detail::toVal(v);
    int rc = mdb_put(txn, env.dbs().raftstate, &key, &val, 0);
    return rc == 0 ? Status::ok() : Environment::fromMdb(rc, "writing hard state");
}

Result<std::vector<std::uint32_t>> LogStore::shards(const Environment& env, MDB_txn* txn) {
    std::vector<std::uint32_t> out;
    // Shards with a hard state, then shards that only have log records (skipping each shard's
    // records with one seek to the next shard).
    for (MDB_dbi dbi : {env.dbs().raftstate, env.dbs().raftlog}) {
        detail::Cursor cursor;
        TROUPE_RETURN_IF_ERROR(cursor.open(txn, dbi));
        MDB_val key;
        MDB_val val;
        int rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_FIRST);
        while (rc == 0) {
            if (key.mv_size < 4)
                return Status(ErrorCode::Corruption, "raft key is truncated");
            const std::uint32_t shard = getBigEndian32(key.mv_data);
            out.push_back(shard);
            if (shard == UINT32_MAX)
                break;
            std::string next = shardKey(shard + 1);
            key = detail::toVal(next);
            rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_SET_RANGE);
        }
        if (rc != 0 && rc != MDB_NOTFOUND)
            return Environment::fromMdb(rc, "listing shards");
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

namespace {

// The committed, unapplied LogEntries of one shard, read in their own snapshot (which must end
// before the Writer writes: a thread holding a read transaction cannot grow the map).
Status collectUnapplied(Environment& env, std::uint32_t shard, HardState* state,
                        std::vector<LogEntry>* entries) {
    Result<ReadTxn> txn = env.beginRead();
    if (!txn)
        return txn.status();
    Result<HardState> hs = LogStore::hardState(env, txn->get(), shard);
    if (!hs)
        return hs.status();
    *state = *hs;
    if (hs->commit <= hs->applied)
        return Status::ok();
    Result<std::vector<RaftLogRecord>> records =
        LogStore::read(env, txn->get(), shard, hs->applied + 1, hs->commit);
    if (!records)
        return records.status();
    std::uint64_t expected = hs->applied + 1;
    for (const RaftLogRecord& r : *records) {
        if (r.index != expected)
            break;
        ++expected;
        if (r.type != 0)
            continue; // Raft's own records (configuration, no-op) change no pages
        Result<LogEntry> entry = decodeLogEntry(r.payload);
        if (!entry)
            return entry.status().withContext("raft log index " + std::to_string(r.index));
        entries->push_back(std::move(*entry));
    }
    if (expected != hs->commit + 1)
        return Status(ErrorCode::Corruption, "committed raft log entry " +
                                                 std::to_string(expected) + " is missing (commit " +
                                                 std::to_string(hs->commit) + ")");
    return Status::ok();
}

} // namespace

Result<std::uint64_t> recoverLog(Environment& env, Writer& writer) {
    std::vector<std::uint32_t> shardList;
    {
        Result<ReadTxn> txn = env.beginRead();
        if (!txn)
            return txn.status();
        Result<std::vector<std::uint32_t>> list = LogStore::shards(env, txn->get());
        if (!list)
            return list.status();
        shardList = std::move(*list);
    }
    std::uint64_t applied = 0;
    for (std::uint32_t shard : shardList) {
        HardState hs;
        std::vector<LogEntry> entries;
        Status s = collectUnapplied(env, shard, &hs, &entries);
        if (!s)
            return s.withContext("recovering shard " + std::to_string(shard));
        if (hs.commit <= hs.applied)
            continue;
        std::vector<const LogEntry*> pointers;
        pointers.reserve(entries.size());
        for (const LogEntry& e : entries)
            pointers.push_back(&e);
        HardState next = hs;
        next.applied = hs.commit;
        // The entries and the new applied index commit together: a crash in between cannot
        // apply an entry twice.
        s = writer.applyNow(pointers, true, [&](MDB_txn* txn) {
            return LogStore::setHardState(env, txn, shard, next);
        });
        if (!s)
            return s.withContext("recovering shard " + std::to_string(shard));
        log::get("storage")->info("shard {}: recovered log entries {}..{}", shard, hs.applied + 1,
                                  hs.commit);
        applied += entries.size();
    }
    return applied;
}

} // namespace troupe::storage
