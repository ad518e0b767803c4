#pragma once

// InvariantChecker: the Raft safety properties (paper figure 3), checked as the simulated
// cluster runs. Each hook is called by SimCluster at the moment the property could break, which
// makes "after every step" cheap (work proportional to what the step changed):
//  - election safety: at most one leader per term (onRole, every step);
//  - log matching: an (index, term) pair names one entry everywhere — same type, data and
//    previous term — which by induction makes the logs identical up to it (onPersist);
//  - leader append-only: a leader never overwrites its own log (onPersist);
//  - leader completeness: a new leader's log holds every entry known committed (onLeaderLog);
//  - state-machine safety: no two nodes apply different entries at one index, and a snapshot
//    agrees with the entries it replaces (onApply, onSnapshot);
//  - reads: a read is served at an index no older than what was committed when it started.
// The first violation is kept; the cluster stops the run on it. Single-threaded.

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "raft/log_storage.h"
#include "raft/types.h"

namespace troupe::raft::sim {

class InvariantChecker {
public:
    void onRole(NodeId node, Term term, Role role);
    // `entries` were just appended to `storage` (whose log now reflects them); `wasLeader` says
    // whether the node was leader when it produced them, and `before` holds the terms it had at
    // those indexes before the append (0 = absent).
    void onPersist(NodeId node, const std::vector<Entry>& entries, const LogStorage& storage,
                   bool wasLeader, const std::vector<Term>& before);
    void onLeaderLog(NodeId node, Term term, const LogStorage& storage);
    // `nodeTerm`: the applying node's current term, an upper bound of the term in which the
    // entry was committed (leader completeness binds leaders of later terms only).
    void onApply(NodeId node, const Entry& entry, Term nodeTerm);
    void onSnapshot(NodeId node, const SnapshotMeta& meta);
    void onReadServed(NodeId node, Index readIndex, Index committedAtStart,
                      const std::string& what);
    // Any node's commit index, to keep the high-water mark of what is committed.
    void onCommitIndex(Index commit);

    Index maxCommitted() const { return m_maxCommit; }
    Index maxApplied() const { return m_applied.empty() ? 0 : m_applied.rbegin()->first; }
    bool ok() const { return m_failure.empty(); }
    const std::string& failure() const { return m_failure; }
    void fail(std::string why);

private:
    struct EntryFacts {
        EntryType type = EntryType::Normal;
        std::string data;
        Term prevTerm = 0;
        NodeId firstSeenOn = kNoNode;
    };
    struct Applied {
        Term term = 0;
        EntryType type = EntryType::Normal;
        std::string data;
        NodeId firstOn = kNoNode;
        Term committedBy = 0; // committed in this term or earlier
    };

    std::map<Term, NodeId> m_leaders;
    std::map<std::pair<Index, Term>, EntryFacts> m_entries;
    std::map<Index, Applied> m_applied; // entries known committed (someone applied them)
    std::map<Index, std::pair<Term, NodeId>> m_snapshotTerms;
    Index m_maxCommit = 0;
    std::string m_failure;
};

} // namespace troupe::raft::sim
