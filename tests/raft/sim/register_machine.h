#pragma once

// RegisterMachine: the simulated application — a key-value register store fed by committed Raft
// entries. A Normal entry carries one client write, "<proposal id>:<key>=<value>"; an empty one is
// a leader's no-op. The machine remembers every proposal id it applied, so applying one twice is
// caught (the exactly-once invariant), and the ids travel inside snapshots. One per simulated
// node, owned by its SimServer; lost on a crash and rebuilt from the snapshot + committed log.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/status.h"
#include "raft/types.h"

namespace troupe::raft::sim {

struct Write {
    std::uint64_t proposal = 0;
    std::string key;
    std::string value;
};

std::string encodeWrite(const Write& write);
// nullopt for an empty (no-op) entry; an error for anything that is not a write.
Result<std::optional<Write>> decodeWrite(const std::string& data);

class RegisterMachine {
public:
    // Starts over from a snapshot (its data as produced by encode(), or empty for index 0).
    Status restore(const Snapshot& snapshot);
    // Applies the next committed entry; it must be at applied() + 1. Returns the write it
    // carried, if any. A ConfChange entry only moves the applied index (the driver hands the
    // change to the core). Fails on a gap, a malformed entry or a proposal applied twice.
    Result<std::optional<Write>> apply(const Entry& entry);

    std::string encode() const;
    Index applied() const { return m_applied; }
    Term appliedTerm() const { return m_appliedTerm; }
    std::string get(const std::string& key) const;
    bool hasApplied(std::uint64_t proposal) const { return m_proposals.contains(proposal); }
    const std::set<std::uint64_t>& proposals() const { return m_proposals; }
    const std::map<std::string, std::string>& values() const { return m_values; }
    // Membership as of applied(), from the snapshot and the ConfChange entries applied since
    // (not the core's conf(), which already counts appended, uncommitted changes).
    const ConfState& conf() const { return m_conf; }

private:
    void applyConfChange(const ConfChange& change);

    Index m_applied = 0;
    Term m_appliedTerm = 0;
    ConfState m_conf; // membership as of m_applied, for the snapshots this machine takes
    std::map<std::string, std::string> m_values;
    std::set<std::uint64_t> m_proposals;
};

} // namespace troupe::raft::sim
