#include "invariants.h"

#include <algorithm>

namespace troupe::raft::sim {
namespace {

std::string at(Index index, Term term) {
    return "(" + std::to_string(index) + ", term " + std::to_string(term) + ")";
}

std::string n(NodeId node) {
    return "n" + std::to_string(node);
}

} // namespace

void InvariantChecker::fail(std::string why) {
    if (m_failure.empty())
        m_failure = std::move(why);
}

void InvariantChecker::onRole(NodeId node, Term term, Role role) {
    if (role != Role::Leader)
        return;
    auto [it, inserted] = m_leaders.emplace(term, node);
    if (!inserted && it->second != node)
        fail("election safety: " + n(it->second) + " and " + n(node) + " both leader in term " +
             std::to_string(term));
}

void InvariantChecker::onPersist(NodeId node, const std::vector<Entry>& entries,
                                 const LogStorage& storage, bool wasLeader,
                                 const std::vector<Term>& before) {
    for (std::size_t k = 0; k < entries.size(); ++k) {
        const Entry& entry = entries[k];
        if (wasLeader && before[k] != 0 && before[k] != entry.term)
            fail("leader append-only: leader " + n(node) + " overwrote " +
                 at(entry.index, before[k]) + " with term " + std::to_string(entry.term));
        auto prev = storage.term(entry.index - 1);
        Term prevTerm = prev ? *prev : 0;
        auto [it, inserted] = m_entries.emplace(std::make_pair(entry.index, entry.term),
                                                EntryFacts{entry.type, entry.data, prevTerm, node});
        if (inserted)
            continue;
        const EntryFacts& seen = it->second;
        if (seen.type != entry.type || seen.data != entry.data)
            fail("log matching: entry " + at(entry.index, entry.term) + " on " + n(node) +
                 " holds '" + entry.data + "' but on " + n(seen.firstSeenOn) + " '" + seen.data +
                 "'");
        else if (prev && seen.prevTerm != prevTerm)
            fail("log matching: entry " + at(entry.index, entry.term) + " follows term " +
                 std::to_string(prevTerm) + " on " + n(node) + " but term " +
                 std::to_string(seen.prevTerm) + " on " + n(seen.firstSeenOn));
    }
}

void InvariantChecker::onLeaderLog(NodeId node, Term term, const LogStorage& storage) {
    Index first = storage.snapshotMeta().index + 1;
    for (auto it = m_applied.lower_bound(first); it != m_applied.end(); ++it) {
        // A leader elected late (its votes were delayed) in a term older than the commit
        // owes nothing to that entry: the property binds leaders of later terms.
        if (it->second.committedBy >= term)
            continue;
        auto have = storage.term(it->first);
        if (!have || *have != it->second.term) {
            fail("leader completeness: " + n(node) + " leads term " + std::to_string(term) +
                 " without committed entry " + at(it->first, it->second.term) + " (has " +
                 (have ? "term " + std::to_string(*have) : std::string("nothing")) + ")");
            return;
        }
    }
}

void InvariantChecker::onApply(NodeId node, const Entry& entry, Term nodeTerm) {
    auto [it, inserted] =
        m_applied.emplace(entry.index, Applied{entry.term, entry.type, entry.data, node, nodeTerm});
    if (!inserted) {
        it->second.committedBy = std::min(it->second.committedBy, nodeTerm);
        const Applied& first = it->second;
        if (first.term != entry.term || first.type != entry.type || first.data != entry.data)
            fail("state-machine safety: " + n(node) + " applied " + at(entry.index, entry.term) +
                 " '" + entry.data + "' but " + n(first.firstOn) + " applied " +
                 at(entry.index, first.term) + " '" + first.data + "'");
    }
    auto snap = m_snapshotTerms.find(entry.index);
    if (snap != m_snapshotTerms.end() && snap->second.first != entry.term)
        fail("state-machine safety: " + n(node) + " applied " + at(entry.index, entry.term) +
             " but a snapshot on " + n(snap->second.second) + " ends at term " +
             std::to_string(snap->second.first));
    onCommitIndex(entry.index);
}

void InvariantChecker::onSnapshot(NodeId node, const SnapshotMeta& meta) {
    if (meta.index == 0)
        return;
    auto it = m_applied.find(meta.index);
    if (it != m_applied.end() && it->second.term != meta.term)
        fail("state-machine safety: snapshot on " + n(node) + " ends at " +
             at(meta.index, meta.term) + " but " + n(it->second.firstOn) + " applied " +
             at(meta.index, it->second.term));
    m_snapshotTerms.emplace(meta.index, std::make_pair(meta.term, node));
    onCommitIndex(meta.index);
}

void InvariantChecker::onReadServed(NodeId node, Index readIndex, Index committedAtStart,
                                    const std::string& what) {
    if (readIndex < committedAtStart)
        fail("stale read: " + n(node) + " served " + what + " at read index " +
             std::to_string(readIndex) + " although index " + std::to_string(committedAtStart) +
             " was committed when the read began");
}

void InvariantChecker::onCommitIndex(Index commit) {
    if (commit > m_maxCommit)
        m_maxCommit = commit;
}

} // namespace troupe::raft::sim
