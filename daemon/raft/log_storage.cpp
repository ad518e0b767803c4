#include "raft/log_storage.h"

#include <algorithm>

namespace troupe::raft {

namespace {

Status notFound(const char* what, Index i) {
    return Status(ErrorCode::NotFound, std::string(what) + " " + std::to_string(i));
}

} // namespace

Index MemoryLogStorage::firstIndex() const {
    return m_snapshot.meta.index + 1;
}

Index MemoryLogStorage::lastIndex() const {
    return m_snapshot.meta.index + m_entries.size();
}

Result<Term> MemoryLogStorage::term(Index i) const {
    if (i == m_snapshot.meta.index)
        return m_snapshot.meta.term;
    if (i < m_snapshot.meta.index)
        return notFound("compacted index", i);
    if (i > lastIndex())
        return notFound("index beyond the log", i);
    return m_entries[i - firstIndex()].term;
}

Result<std::vector<Entry>> MemoryLogStorage::entries(Index lo, Index hi,
                                                     std::uint64_t maxBytes) const {
    if (lo < firstIndex())
        return notFound("compacted index", lo);
    if (hi > lastIndex() + 1)
        return notFound("index beyond the log", hi - 1);
    std::vector<Entry> out;
    std::uint64_t bytes = 0;
    for (Index i = lo; i < hi; ++i) {
        const Entry& e = m_entries[i - firstIndex()];
        // At least one entry, so a single oversized entry still makes progress.
        if (!out.empty() && bytes + e.data.size() > maxBytes)
            break;
        bytes += e.data.size();
        out.push_back(e);
    }
    return out;
}

Status MemoryLogStorage::append(const std::vector<Entry>& entries) {
    if (entries.empty())
        return Status::ok();
    Index first = entries.front().index;
    if (first > lastIndex() + 1)
        return Status(ErrorCode::InvalidArgument,
                      "append leaves a gap at " + std::to_string(lastIndex() + 1));
    // Entries at or below the snapshot are already covered by it.
    std::size_t skip = 0;
    while (skip < entries.size() && entries[skip].index <= m_snapshot.meta.index)
        ++skip;
    if (skip == entries.size())
        return Status::ok();
    first = entries[skip].index;
    m_entries.resize(first - firstIndex());
    m_entries.insert(m_entries.end(), entries.begin() + static_cast<std::ptrdiff_t>(skip),
                     entries.end());
    return Status::ok();
}

Status MemoryLogStorage::setHardState(const HardState& state) {
    m_hardState = state;
    return Status::ok();
}

Status MemoryLogStorage::applySnapshot(const Snapshot& snapshot) {
    if (snapshot.meta.index < m_snapshot.meta.index)
        return Status(ErrorCode::InvalidArgument, "snapshot older than the current one");
    m_snapshot = snapshot;
    m_entries.clear();
    return Status::ok();
}

Status MemoryLogStorage::compact(Index index, const ConfState& conf, std::string data) {
    if (index <= m_snapshot.meta.index)
        return Status(ErrorCode::InvalidArgument, "compaction at or below the snapshot");
    if (index > lastIndex())
        return notFound("compaction beyond the log", index);
    Term t = m_entries[index - firstIndex()].term;
    m_entries.erase(m_entries.begin(),
                    m_entries.begin() + static_cast<std::ptrdiff_t>(index - firstIndex() + 1));
    m_snapshot.meta = SnapshotMeta{index, t, conf};
    m_snapshot.data = std::move(data);
    return Status::ok();
}

Status persist(LogStorage& storage, const Ready& ready) {
    if (ready.snapshot)
        TROUPE_RETURN_IF_ERROR(storage.applySnapshot(*ready.snapshot));
    TROUPE_RETURN_IF_ERROR(storage.append(ready.entries));
    if (ready.hardState)
        TROUPE_RETURN_IF_ERROR(storage.setHardState(*ready.hardState));
    return Status::ok();
}

} // namespace troupe::raft
