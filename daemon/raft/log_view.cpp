// The log as the core reads it: what the driver persisted (LogStorage), overlaid by a snapshot
// received from the leader and by entries not yet persisted. Ready hands both to the driver;
// advance() drops them once they are in storage.

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "raft/node_state.h"

namespace troupe::raft {

Index Node::State::firstIndex() const {
    if (pendingSnapshot)
        return pendingSnapshot->meta.index + 1;
    return storage.firstIndex();
}

Index Node::State::lastIndex() const {
    if (!unstable.empty())
        return unstable.back().index;
    if (pendingSnapshot)
        return pendingSnapshot->meta.index;
    // Only reachable with unstableOffset past storage's end or equal to it + 1.
    return std::min(storage.lastIndex(), unstableOffset - 1);
}

Term Node::State::lastTerm() const {
    return termAt(lastIndex()).value_or(0);
}

std::optional<Term> Node::State::termAt(Index i) const {
    if (!unstable.empty() && i >= unstableOffset) {
        if (i > unstable.back().index)
            return std::nullopt;
        return unstable[i - unstableOffset].term;
    }
    if (pendingSnapshot) {
        if (i == pendingSnapshot->meta.index)
            return pendingSnapshot->meta.term;
        return std::nullopt; // the snapshot replaces everything at or below it
    }
    if (i >= unstableOffset)
        return std::nullopt;
    auto t = storage.term(i);
    if (!t)
        return std::nullopt;
    return *t;
}

bool Node::State::matchTerm(Index i, Term t) const {
    auto mine = termAt(i);
    return mine && *mine == t;
}

std::optional<std::vector<Entry>> Node::State::slice(Index lo, Index hi,
                                                     std::uint64_t maxBytes) const {
    std::vector<Entry> out;
    if (lo >= hi)
        return out;
    if (lo < firstIndex())
        return std::nullopt;
    std::uint64_t bytes = 0;
    Index stableHi = std::min(hi, unstable.empty() ? hi : unstableOffset);
    if (!pendingSnapshot && lo < stableHi) {
        auto stored = storage.entries(lo, stableHi, maxBytes);
        if (!stored)
            return std::nullopt;
        for (auto& e : *stored)
            bytes += e.data.size();
        out = std::move(*stored);
        // Storage stopped early at the byte limit: the caller asks again later.
        if (out.empty() || out.back().index + 1 < stableHi)
            return out;
    }
    for (Index i = std::max(lo, unstableOffset); i < hi && !unstable.empty(); ++i) {
        if (i > unstable.back().index)
            break;
        const Entry& e = unstable[i - unstableOffset];
        if (!out.empty() && bytes + e.data.size() > maxBytes)
            break;
        bytes += e.data.size();
        out.push_back(e);
    }
    return out;
}

void Node::State::appendToLog(const std::vector<Entry>& entries) {
    if (entries.empty())
        return;
    Index from = entries.front().index;
    if (from <= committed) {
        // Log Matching (§5.3) guarantees a leader never overwrites a committed entry; a log that
        // says otherwise is corrupt and the node must not continue.
        std::cerr << "raft: group " << cfg.group << " node " << cfg.id
                  << " asked to overwrite committed index " << from << " (commit " << committed
                  << ")\n";
        std::abort();
    }
    if (from <= lastIndex())
        onLogTruncated(from);
    if (!unstable.empty() && from >= unstableOffset && from <= unstable.back().index + 1) {
        unstable.resize(from - unstableOffset);
    } else if (unstable.empty() || from < unstableOffset) {
        // Replacing (part of) the persisted log, or starting a fresh unstable run.
        unstable.clear();
        unstableOffset = from;
    }
    unstable.insert(unstable.end(), entries.begin(), entries.end());
    onEntriesAppended(entries);
}

Index Node::State::findConflict(const std::vector<Entry>& entries) const {
    for (const Entry& e : entries) {
        if (!matchTerm(e.index, e.term))
            return e.index;
    }
    return 0;
}

Index Node::State::findConflictByTerm(Index index, Term t) const {
    // Walk down to the last entry whose term is <= t: everything above it conflicts.
    Index floor = firstIndex() - 1;
    while (index > floor) {
        auto mine = termAt(index);
        if (!mine || *mine <= t)
            return index;
        --index;
    }
    return index;
}

bool Node::State::isUpToDate(Index index, Term t) const {
    // §5.4.1: the candidate's log is at least as up to date as ours.
    Term lt = lastTerm();
    return t > lt || (t == lt && index >= lastIndex());
}

void Node::State::commitTo(Index index) {
    if (index <= committed)
        return;
    if (index > lastIndex()) {
        std::cerr << "raft: group " << cfg.group << " node " << cfg.id << " commit " << index
                  << " beyond last index " << lastIndex() << "\n";
        std::abort();
    }
    committed = index;
}

} // namespace troupe::raft
