// LogStore: Raft log records and hard state per shard (layout in log_store.h and
// resources/docs/formats.md), and crash recovery of committed but unapplied entries.

#include "storage/log_store.h"

#include <algorithm>

#include "core/bytes.h"
#include "core/log.h"
#include "storage/log_entry.h"
#include "storage/mdb_util.h"
#include "storage/sealed_db.h"
#include "storage/writer.h"

namespace troupe::storage {

namespace {

constexpr std::uint8_t kHardStateVersion = 1; // hard state only (still read)
constexpr std::uint8_t kRaftStateVersion = 2; // hard state and snapshot info (written)
constexpr std::size_t kHardStateSize = 1 + 4 * 8;
constexpr char kSnapshotDataTag = 1;

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

std::string snapshotDataKey(std::uint32_t shard) {
    std::string key = shardKey(shard);
    key.push_back(kSnapshotDataTag);
    return key;
}

Status truncatedRecord(const Environment& env, std::string_view key) {
    Status bad(ErrorCode::Corruption, describeRecordKey(RecordDb::RaftLog, key) + " is truncated");
    env.reportCorruption(RecordDb::RaftLog, key, bad);
    return bad;
}

} // namespace

Status LogStore::append(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                        const RaftLogRecord& record) {
    return append(env, txn, shard, record.index, record.term, record.type, record.payload);
}

Status LogStore::append(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                        std::uint64_t index, std::uint64_t term, std::uint8_t type,
                        std::string_view payload) {
    std::string v;
    v.reserve(9 + payload.size());
    putBigEndian64(v, term);
    v.push_back(char(type));
    v += payload;
    return putSealed(env, txn, RecordDb::RaftLog, logKey(shard, index), v);
}

Result<std::vector<RaftLogRecord>> LogStore::read(const Environment& env, MDB_txn* txn,
                                                  std::uint32_t shard, std::uint64_t from,
                                                  std::uint64_t to, std::uint64_t maxBytes) {
    std::vector<RaftLogRecord> out;
    if (from > to)
        return out;
    detail::Cursor cursor;
    TROUPE_RETURN_IF_ERROR(cursor.open(txn, env.dbs().raftlog));
    std::string start = logKey(shard, from);
    MDB_val key = detail::toVal(start);
    MDB_val val;
    std::uint64_t bytes = 0;
    int rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_SET_RANGE);
    while (rc == 0) {
        if (key.mv_size != 12 || getBigEndian32(key.mv_data) != shard)
            break;
        const std::uint64_t index = getBigEndian64(static_cast<const char*>(key.mv_data) + 4);
        if (index > to)
            break;
        Result<std::string_view> value = openSealed(env, RecordDb::RaftLog, key, val);
        if (!value)
            return value.status();
        if (value->size() < 9)
            return truncatedRecord(env, detail::toView(key));
        bytes += value->size() - 9;
        if (!out.empty() && bytes > maxBytes)
            break;
        const char* p = value->data();
        RaftLogRecord r;
        r.index = index;
        r.term = getBigEndian64(p);
        r.type = std::uint8_t(p[8]);
        r.payload.assign(p + 9, value->size() - 9);
        out.push_back(std::move(r));
        rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return Environment::fromMdb(rc, "reading raft log");
    return out;
}

Result<std::uint64_t> LogStore::term(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                                     std::uint64_t index) {
    const std::string k = logKey(shard, index);
    Result<std::string_view> value = getSealed(env, txn, RecordDb::RaftLog, k);
    if (!value)
        return value.status();
    if (value->size() < 9)
        return truncatedRecord(env, k);
    return getBigEndian64(value->data());
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

Status LogStore::truncateSuffix(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                                std::uint64_t from) {
    detail::Cursor cursor;
    TROUPE_RETURN_IF_ERROR(cursor.open(txn, env.dbs().raftlog));
    std::string start = logKey(shard, from);
    MDB_val key = detail::toVal(start);
    MDB_val val;
    int rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_SET_RANGE);
    while (rc == 0) {
        if (key.mv_size != 12 || getBigEndian32(key.mv_data) != shard)
            break;
        rc = mdb_cursor_del(cursor.get(), 0);
        if (rc != 0)
            return Environment::fromMdb(rc, "truncating raft log suffix");
        rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_NEXT); // the record after the deleted
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return Environment::fromMdb(rc, "truncating raft log suffix");
    return Status::ok();
}

Result<std::uint64_t> LogStore::lastIndex(const Environment& env, MDB_txn* txn,
                                          std::uint32_t shard) {
    detail::Cursor cursor;
    TROUPE_RETURN_IF_ERROR(cursor.open(txn, env.dbs().raftlog));
    MDB_val key;
    MDB_val val;
    int rc;
    // The record before the next shard's first key is this shard's last, if it is this shard's.
    if (shard == UINT32_MAX) {
        rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_LAST);
    } else {
        std::string next = logKey(shard + 1, 0);
        key = detail::toVal(next);
        rc = mdb_cursor_get(cursor.get(), &key, &val, MDB_SET_RANGE);
        rc = mdb_cursor_get(cursor.get(), &key, &val, rc == 0 ? MDB_PREV : MDB_LAST);
    }
    if (rc == MDB_NOTFOUND)
        return std::uint64_t(0);
    if (rc != 0)
        return Environment::fromMdb(rc, "finding the last raft log record");
    if (key.mv_size != 12 || getBigEndian32(key.mv_data) != shard)
        return std::uint64_t(0);
    return getBigEndian64(static_cast<const char*>(key.mv_data) + 4);
}

namespace {

Status malformedState(const Environment& env, std::uint32_t shard) {
    Status bad(ErrorCode::Corruption,
               "raft state of shard " + std::to_string(shard) + " is malformed");
    env.reportCorruption(RecordDb::RaftState, shardKey(shard), bad);
    return bad;
}

// Reads `count` u64 after a u32 count at *p, advancing *p; false when the value is too short.
bool readIds(const char*& p, const char* end, std::vector<std::uint64_t>* out) {
    if (end - p < 4)
        return false;
    const std::uint32_t n = getBigEndian32(p);
    p += 4;
    if (std::uint64_t(end - p) < std::uint64_t(n) * 8)
        return false;
    out->reserve(n);
    for (std::uint32_t i = 0; i < n; ++i, p += 8)
        out->push_back(getBigEndian64(p));
    return true;
}

void putIds(std::string& out, const std::vector<std::uint64_t>& ids) {
    putBigEndian32(out, std::uint32_t(ids.size()));
    for (std::uint64_t id : ids)
        putBigEndian64(out, id);
}

} // namespace

Result<RaftState> LogStore::raftState(const Environment& env, MDB_txn* txn, std::uint32_t shard) {
    const std::string k = shardKey(shard);
    Result<std::string_view> value = getSealed(env, txn, RecordDb::RaftState, k);
    if (!value && value.status().code() == ErrorCode::NotFound)
        return RaftState{};
    if (!value)
        return value.status();
    const char* p = value->data();
    const char* end = p + value->size();
    if (value->size() < kHardStateSize)
        return malformedState(env, shard);
    const auto version = std::uint8_t(p[0]);
    if (version != kHardStateVersion && version != kRaftStateVersion)
        return malformedState(env, shard);
    if (version == kHardStateVersion && value->size() != kHardStateSize)
        return malformedState(env, shard);
    RaftState st;
    st.hard.term = getBigEndian64(p + 1);
    st.hard.vote = getBigEndian64(p + 9);
    st.hard.commit = getBigEndian64(p + 17);
    st.hard.applied = getBigEndian64(p + 25);
    if (version == kHardStateVersion)
        return st;
    p += kHardStateSize;
    if (end - p < 16)
        return malformedState(env, shard);
    st.snapshot.index = getBigEndian64(p);
    st.snapshot.term = getBigEndian64(p + 8);
    p += 16;
    if (!readIds(p, end, &st.snapshot.voters) || !readIds(p, end, &st.snapshot.learners) ||
        p != end)
        return malformedState(env, shard);
    return st;
}

Status LogStore::setRaftState(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                              const RaftState& state) {
    std::string k = shardKey(shard);
    std::string v;
    v.reserve(kHardStateSize + 24 +
              8 * (state.snapshot.voters.size() + state.snapshot.learners.size()));
    v.push_back(char(kRaftStateVersion));
    putBigEndian64(v, state.hard.term);
    putBigEndian64(v, state.hard.vote);
    putBigEndian64(v, state.hard.commit);
    putBigEndian64(v, state.hard.applied);
    putBigEndian64(v, state.snapshot.index);
    putBigEndian64(v, state.snapshot.term);
    putIds(v, state.snapshot.voters);
    putIds(v, state.snapshot.learners);
    return putSealed(env, txn, RecordDb::RaftState, k, v);
}

Result<HardState> LogStore::hardState(const Environment& env, MDB_txn* txn, std::uint32_t shard) {
    Result<RaftState> st = raftState(env, txn, shard);
    if (!st)
        return st.status();
    return st->hard;
}

Status LogStore::setHardState(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                              const HardState& state) {
    Result<RaftState> st = raftState(env, txn, shard);
    if (!st)
        return st.status();
    st->hard = state;
    return setRaftState(env, txn, shard, *st);
}

Result<std::string> LogStore::snapshotData(const Environment& env, MDB_txn* txn,
                                           std::uint32_t shard) {
    Result<std::string_view> value =
        getSealed(env, txn, RecordDb::RaftState, snapshotDataKey(shard));
    if (!value && value.status().code() == ErrorCode::NotFound)
        return std::string();
    if (!value)
        return value.status();
    return std::string(*value);
}

Status LogStore::setSnapshotData(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                                 std::string_view data) {
    std::string k = snapshotDataKey(shard);
    MDB_val key = detail::toVal(k);
    if (data.empty()) { // absent means empty: no record for the common case
        int rc = mdb_del(txn, env.dbs().raftstate, &key, nullptr);
        return rc == 0 || rc == MDB_NOTFOUND ? Status::ok()
                                             : Environment::fromMdb(rc, "erasing snapshot data");
    }
    return putSealed(env, txn, RecordDb::RaftState, k, data);
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
    Result<RaftState> st = LogStore::raftState(env, txn->get(), shard);
    if (!st)
        return st.status();
    // Entries up to the snapshot are gone from the log; the snapshot already holds their effect.
    st->hard.applied = std::max(st->hard.applied, st->snapshot.index);
    *state = st->hard;
    const HardState* hs = state;
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
