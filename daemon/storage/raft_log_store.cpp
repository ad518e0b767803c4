// RaftLogStore: one Raft group's log, hard state and snapshot over raftlog/raftstate, written
// through the storage Writer's group commit (see raft_log_store.h).

#include "storage/raft_log_store.h"

#include <algorithm>
#include <future>

#include "storage/log_store.h"
#include "storage/writer.h"

namespace troupe::storage {

struct RaftLogStore::Effect {
    bool installed = false; // a received snapshot replaced the whole log
    raft::Index appendFrom = 0;
    std::vector<raft::Term> appendedTerms;
    raft::Index compactedTo = 0;
    raft::SnapshotMeta snapshot; // after the request
    raft::Index last = 0;        // after the request
    std::optional<raft::HardState> hard;
};

namespace {

constexpr std::size_t kEntryOverhead = 12 + 9; // key and value header of a raftlog record

raft::SnapshotMeta toMeta(const RaftSnapshotInfo& info) {
    raft::SnapshotMeta meta;
    meta.index = info.index;
    meta.term = info.term;
    meta.conf.voters = info.voters;
    meta.conf.learners = info.learners;
    return meta;
}

RaftSnapshotInfo toInfo(raft::Index index, raft::Term term, const raft::ConfState& conf) {
    return RaftSnapshotInfo{index, term, conf.voters, conf.learners};
}

Status refuse(std::uint32_t shard, const std::string& why) {
    return Status(ErrorCode::InvalidArgument,
                  "raft log of shard " + std::to_string(shard) + ": " + why);
}

// Applies `req` to the shard inside `txn`: checks every precondition first (a refusal sets
// *outcome and writes nothing), then writes. Repeatable: *effect is rebuilt on every run.
Status applyPersist(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                    const RaftPersist& req, RaftLogStore::Effect* effect, Status* outcome) {
    *effect = RaftLogStore::Effect{};
    Result<RaftState> stored = LogStore::raftState(env, txn, shard);
    if (!stored)
        return stored.status();
    Result<std::uint64_t> lastOnDisk = LogStore::lastIndex(env, txn, shard);
    if (!lastOnDisk)
        return lastOnDisk.status();
    RaftState next = *stored;
    raft::Index last = std::max(*lastOnDisk, stored->snapshot.index);

    if (req.snapshot) {
        const raft::SnapshotMeta& meta = req.snapshot->meta;
        if (meta.index < stored->snapshot.index) {
            *outcome = refuse(shard, "snapshot at " + std::to_string(meta.index) +
                                         " is older than the stored one at " +
                                         std::to_string(stored->snapshot.index));
            return Status::ok();
        }
        next.snapshot = toInfo(meta.index, meta.term, meta.conf);
        last = meta.index;
        effect->installed = true;
    }
    // Entries the snapshot already covers are skipped (a leader may resend them).
    const std::vector<raft::Entry>& entries = req.entries;
    std::size_t skip = 0;
    while (skip < entries.size() && entries[skip].index <= next.snapshot.index)
        ++skip;
    if (skip < entries.size()) {
        const raft::Index first = entries[skip].index;
        if (first > last + 1) {
            *outcome = refuse(shard, "entry " + std::to_string(first) +
                                         " would leave a gap after the last index " +
                                         std::to_string(last));
            return Status::ok();
        }
        for (std::size_t k = skip + 1; k < entries.size(); ++k)
            if (entries[k].index != entries[k - 1].index + 1) {
                *outcome = refuse(shard, "entries to append are not consecutive");
                return Status::ok();
            }
        effect->appendFrom = first;
        last = entries.back().index;
    }
    raft::Term compactTerm = 0;
    if (req.compaction) {
        const raft::Index index = req.compaction->index;
        if (index <= next.snapshot.index || index > last) {
            *outcome = refuse(shard, "cannot compact to " + std::to_string(index) +
                                         ": the log holds (" + std::to_string(next.snapshot.index) +
                                         ", " + std::to_string(last) + "]");
            if (index > last) // as MemoryLogStorage: beyond the log is NotFound
                *outcome = Status(ErrorCode::NotFound, outcome->message());
            return Status::ok();
        }
        if (effect->appendFrom != 0 && index >= effect->appendFrom) {
            compactTerm = entries[skip + (index - effect->appendFrom)].term;
        } else {
            Result<std::uint64_t> t = LogStore::term(env, txn, shard, index);
            if (!t)
                return t.status().withContext("compacting");
            compactTerm = *t;
        }
    }

    // Every precondition holds: write.
    if (effect->installed) {
        TROUPE_RETURN_IF_ERROR(LogStore::truncateSuffix(env, txn, shard, 0));
        TROUPE_RETURN_IF_ERROR(LogStore::setSnapshotData(env, txn, shard, req.snapshot->data));
    }
    if (effect->appendFrom != 0) {
        if (effect->appendFrom <= *lastOnDisk)
            TROUPE_RETURN_IF_ERROR(LogStore::truncateSuffix(env, txn, shard, effect->appendFrom));
        effect->appendedTerms.reserve(entries.size() - skip);
        for (std::size_t k = skip; k < entries.size(); ++k) {
            const raft::Entry& e = entries[k];
            TROUPE_RETURN_IF_ERROR(
                LogStore::append(env, txn, shard, e.index, e.term, std::uint8_t(e.type), e.data));
            effect->appendedTerms.push_back(e.term);
        }
    }
    if (req.hardState) {
        next.hard.term = req.hardState->term;
        next.hard.vote = req.hardState->vote;
        next.hard.commit = req.hardState->commit;
    }
    if (req.compaction) {
        next.snapshot = toInfo(req.compaction->index, compactTerm, req.compaction->conf);
        TROUPE_RETURN_IF_ERROR(LogStore::truncatePrefix(env, txn, shard, req.compaction->index));
        TROUPE_RETURN_IF_ERROR(LogStore::setSnapshotData(env, txn, shard, req.compaction->data));
        effect->compactedTo = req.compaction->index;
    }
    if (effect->installed || req.hardState || req.compaction)
        TROUPE_RETURN_IF_ERROR(LogStore::setRaftState(env, txn, shard, next));
    effect->snapshot = toMeta(next.snapshot);
    effect->last = last;
    if (req.hardState)
        effect->hard = raft::HardState{next.hard.term, next.hard.vote, next.hard.commit};
    return Status::ok();
}

} // namespace

RaftPersist RaftPersist::fromReady(const raft::Ready& ready) {
    RaftPersist request;
    request.snapshot = ready.snapshot;
    request.entries = ready.entries;
    request.hardState = ready.hardState;
    return request;
}

std::size_t RaftPersist::byteSize() const {
    std::size_t n = 64;
    for (const raft::Entry& e : entries)
        n += kEntryOverhead + e.data.size();
    if (snapshot)
        n += snapshot->data.size();
    if (compaction)
        n += compaction->data.size();
    return n;
}

RaftLogStore::RaftLogStore(Environment& env, std::uint32_t shard, Writer* writer)
    : m_env(env), m_shard(shard), m_writer(writer) {}

RaftLogStore::~RaftLogStore() = default;

Result<std::unique_ptr<RaftLogStore>> RaftLogStore::open(Environment& env, std::uint32_t shard,
                                                         Writer* writer) {
    std::unique_ptr<RaftLogStore> store(new RaftLogStore(env, shard, writer));
    Result<ReadTxn> txn = env.beginRead();
    if (!txn)
        return txn.status();
    Result<RaftState> state = LogStore::raftState(env, txn->get(), shard);
    if (!state)
        return state.status();
    Result<std::uint64_t> last = LogStore::lastIndex(env, txn->get(), shard);
    if (!last)
        return last.status();
    store->m_hard = raft::HardState{state->hard.term, state->hard.vote, state->hard.commit};
    store->m_snapshot = toMeta(state->snapshot);
    store->m_last = std::max(*last, state->snapshot.index);
    store->m_termsFirst = store->m_last + 1;
    return store;
}

raft::HardState RaftLogStore::hardState() const {
    std::lock_guard lock(m_mutex);
    return m_hard;
}

raft::SnapshotMeta RaftLogStore::snapshotMeta() const {
    std::lock_guard lock(m_mutex);
    return m_snapshot;
}

raft::Index RaftLogStore::firstIndex() const {
    std::lock_guard lock(m_mutex);
    return m_snapshot.index + 1;
}

raft::Index RaftLogStore::lastIndex() const {
    std::lock_guard lock(m_mutex);
    return m_last;
}

// The answer when memory knows it; nullopt when LMDB must be read.
std::optional<Result<raft::Term>> RaftLogStore::cachedTerm(raft::Index i) const {
    std::lock_guard lock(m_mutex);
    if (i == m_snapshot.index)
        return Result<raft::Term>(m_snapshot.term);
    if (i < m_snapshot.index)
        return Result<raft::Term>(
            Status(ErrorCode::NotFound, "raft log entry " + std::to_string(i) +
                                            " was compacted (snapshot at " +
                                            std::to_string(m_snapshot.index) + ")"));
    if (i > m_last)
        return Result<raft::Term>(
            Status(ErrorCode::NotFound, "raft log entry " + std::to_string(i) +
                                            " is beyond the last index " + std::to_string(m_last)));
    if (i >= m_termsFirst && i - m_termsFirst < m_terms.size())
        return Result<raft::Term>(m_terms[i - m_termsFirst]);
    return std::nullopt;
}

Result<raft::Term> RaftLogStore::term(raft::Index i) const {
    if (std::optional<Result<raft::Term>> cached = cachedTerm(i))
        return std::move(*cached);
    Result<ReadTxn> txn = m_env.beginRead();
    if (!txn)
        return txn.status();
    return LogStore::term(m_env, txn->get(), m_shard, i);
}

Result<std::vector<raft::Entry>> RaftLogStore::entries(raft::Index lo, raft::Index hi,
                                                       std::uint64_t maxBytes) const {
    {
        std::lock_guard lock(m_mutex);
        if (lo <= m_snapshot.index)
            return Status(ErrorCode::NotFound, "raft log entry " + std::to_string(lo) +
                                                   " was compacted (snapshot at " +
                                                   std::to_string(m_snapshot.index) + ")");
        if (hi > m_last + 1)
            return Status(ErrorCode::NotFound, "raft log entries up to " + std::to_string(hi - 1) +
                                                   " asked for, the last is " +
                                                   std::to_string(m_last));
    }
    std::vector<raft::Entry> out;
    if (lo >= hi)
        return out;
    Result<ReadTxn> txn = m_env.beginRead();
    if (!txn)
        return txn.status();
    Result<std::vector<RaftLogRecord>> records =
        LogStore::read(m_env, txn->get(), m_shard, lo, hi - 1, maxBytes);
    if (!records)
        return records.status();
    out.reserve(records->size());
    for (RaftLogRecord& r : *records) {
        // A compaction that committed after the bounds check shows as a hole at the front.
        if (r.index != lo + out.size())
            return Status(ErrorCode::NotFound,
                          "raft log entry " + std::to_string(lo) + " was compacted");
        out.push_back(raft::Entry{r.index, r.term, raft::EntryType(r.type), std::move(r.payload)});
    }
    if (out.empty())
        return Status(ErrorCode::NotFound,
                      "raft log entry " + std::to_string(lo) + " was compacted");
    return out;
}

Result<raft::Snapshot> RaftLogStore::snapshot() const {
    // Meta and data from one read transaction, so they belong together.
    Result<ReadTxn> txn = m_env.beginRead();
    if (!txn)
        return txn.status();
    Result<RaftState> state = LogStore::raftState(m_env, txn->get(), m_shard);
    if (!state)
        return state.status();
    Result<std::string> data = LogStore::snapshotData(m_env, txn->get(), m_shard);
    if (!data)
        return data.status();
    return raft::Snapshot{toMeta(state->snapshot), std::move(*data)};
}

Status RaftLogStore::append(const std::vector<raft::Entry>& entries) {
    RaftPersist request;
    request.entries = entries;
    return persistNow(std::move(request));
}

Status RaftLogStore::setHardState(const raft::HardState& state) {
    RaftPersist request;
    request.hardState = state;
    return persistNow(std::move(request));
}

Status RaftLogStore::applySnapshot(const raft::Snapshot& snapshot) {
    RaftPersist request;
    request.snapshot = snapshot;
    return persistNow(std::move(request));
}

Status RaftLogStore::compact(raft::Index index, const raft::ConfState& conf, std::string data) {
    RaftPersist request;
    request.compaction = RaftPersist::Compaction{index, conf, std::move(data)};
    return persistNow(std::move(request));
}

void RaftLogStore::persist(RaftPersist request, Completion done) {
    struct Job {
        RaftPersist request;
        Effect effect;
        Status outcome;
    };
    auto job = std::make_shared<Job>();
    job->request = std::move(request);
    auto apply = [this, job](MDB_txn* txn, Status* outcome) {
        return applyPersist(m_env, txn, m_shard, job->request, &job->effect, outcome);
    };
    auto finish = [this, job, done = std::move(done)](Status s) {
        if (s)
            commitEffect(job->effect); // before `done`: the driver reads what it persisted
        done(std::move(s));
    };
    if (m_writer) {
        const std::size_t bytes = job->request.byteSize();
        m_writer->submitWork(Writer::TxnWork{std::move(apply), bytes}, false, std::move(finish));
        return;
    }
    Status s = m_env.write([&](MDB_txn* txn) {
        job->outcome = Status::ok();
        return apply(txn, &job->outcome);
    });
    finish(s ? job->outcome : s);
}

Status RaftLogStore::persistNow(RaftPersist request) {
    std::promise<Status> result;
    std::future<Status> future = result.get_future();
    persist(std::move(request), [&result](Status s) { result.set_value(std::move(s)); });
    return future.get();
}

void RaftLogStore::commitEffect(const Effect& effect) {
    std::lock_guard lock(m_mutex);
    if (effect.installed) {
        m_terms.clear();
        m_termsFirst = effect.snapshot.index + 1;
    }
    if (effect.appendFrom != 0) {
        // The cache must stay one run ending at the log's end: cut at the first new entry.
        if (effect.appendFrom <= m_termsFirst ||
            effect.appendFrom > m_termsFirst + m_terms.size()) {
            m_terms.clear();
            m_termsFirst = effect.appendFrom;
        } else {
            m_terms.resize(effect.appendFrom - m_termsFirst);
        }
        m_terms.insert(m_terms.end(), effect.appendedTerms.begin(), effect.appendedTerms.end());
        while (m_terms.size() > kCachedTerms) {
            m_terms.pop_front();
            ++m_termsFirst;
        }
    }
    while (!m_terms.empty() && m_termsFirst <= effect.snapshot.index) {
        m_terms.pop_front();
        ++m_termsFirst;
    }
    if (m_terms.empty())
        m_termsFirst = std::max(m_termsFirst, effect.snapshot.index + 1);
    m_snapshot = effect.snapshot;
    m_last = effect.last;
    if (effect.hard)
        m_hard = *effect.hard;
}

} // namespace troupe::storage
