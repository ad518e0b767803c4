#pragma once

// The values the pure Raft core (node.h) exchanges with its driver: log entries, hard state,
// membership, messages and the Ready batch. Plain data, standard C++ only, no I/O. The wire
// and disk encodings of these values live with the transport and the log store, not here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace troupe::raft {

using NodeId = std::uint64_t; // 0 means "none"
using GroupId = std::uint64_t;
using Term = std::uint64_t;
using Index = std::uint64_t;

inline constexpr NodeId kNoNode = 0;

enum class EntryType : std::uint8_t {
    Normal = 1,     // application data (possibly empty: a new leader's no-op, §5.4.2)
    ConfChange = 2, // data is an encoded ConfChange (encodeConfChange in node.h)
};

struct Entry {
    Index index = 0;
    Term term = 0;
    EntryType type = EntryType::Normal;
    std::string data;

    bool operator==(const Entry&) const = default;
};

// Members of a group. A learner receives the log but neither votes nor counts for a quorum.
struct ConfState {
    std::vector<NodeId> voters;
    std::vector<NodeId> learners;

    bool operator==(const ConfState&) const = default;
};

// A single membership step (one server at a time, thesis §4.1, with the leader rule that it must
// have committed an entry of its own term first — the fix for the single-server change bug).
struct ConfChange {
    enum class Kind : std::uint8_t { AddLearner = 1, PromoteLearner = 2, RemoveNode = 3 };
    Kind kind = Kind::AddLearner;
    NodeId node = kNoNode;

    bool operator==(const ConfChange&) const = default;
};

// What must be on stable storage before any message that depends on it leaves the node.
struct HardState {
    Term term = 0;
    NodeId vote = kNoNode;
    Index commit = 0;

    bool operator==(const HardState&) const = default;
};

// A snapshot of the application state at `index` (which had `term`), with the membership at that
// index. `data` is opaque to the core.
struct SnapshotMeta {
    Index index = 0;
    Term term = 0;
    ConfState conf;

    bool operator==(const SnapshotMeta&) const = default;
};

struct Snapshot {
    SnapshotMeta meta;
    std::string data;
};

enum class MessageType : std::uint8_t {
    PreVote = 1,         // §9.6 pre-vote: index/logTerm = candidate's last entry; term = term+1
    PreVoteResponse = 2, // reject = not granted
    Vote = 3,            // RequestVote; context "transfer" when caused by TimeoutNow
    VoteResponse = 4,
    Append = 5,            // AppendEntries: index/logTerm = previous entry, entries, commit
    AppendResponse = 6,    // index = last index now matching (accept) or rejected index (reject)
                           // with rejectHint/rejectTerm for fast backtracking
    Heartbeat = 7,         // commit = min(leader commit, follower match); context = read context;
                           // index = the leader's tick when sent (echoed back: lease start)
    HeartbeatResponse = 8, // index, context echoed; commit = follower's commit index
    SnapshotChunk = 9,     // snapshot meta + data[offset, offset+size), last = final chunk
    SnapshotResponse = 10, // index = bytes received so far (accept) or reject = restart
    TimeoutNow = 11,       // leader transfer: campaign now, skipping pre-vote
    ReadIndex = 12,        // follower → leader forwarding of readIndex(ctx)
    ReadIndexResponse = 13,
};

struct Message {
    MessageType type = MessageType::Append;
    GroupId group = 0;
    NodeId from = kNoNode;
    NodeId to = kNoNode;
    Term term = 0;
    Term logTerm = 0;
    Index index = 0;
    Index commit = 0;
    std::vector<Entry> entries;
    bool reject = false;
    // AppendResponse reject: the largest index of the follower's log at or below the rejected
    // index whose term is <= the leader's logTerm there, and that entry's term — so the leader
    // skips a whole conflicting term per round trip (fast backtracking).
    Index rejectHint = 0;
    Term rejectTerm = 0; // 0 = none
    std::string context; // read-index context, "transfer" for forced votes
    // SnapshotChunk only:
    std::optional<SnapshotMeta> snapshot;
    std::uint64_t offset = 0;
    bool last = false;
    std::string data;
    // Heartbeat only: the leader's group is going quiet (node.h, quiescence); a follower whose
    // log and commit index match `commit` stops expecting heartbeats.
    bool quiesce = false;
};

// A linearizable read may be served once the state machine has applied `index`.
struct ReadState {
    Index index = 0;
    std::string context;
};

enum class Role : std::uint8_t { Follower, PreCandidate, Candidate, Leader };

struct SoftState {
    NodeId leader = kNoNode;
    Role role = Role::Follower;

    bool operator==(const SoftState&) const = default;
};

// What the driver must do, in this order, then call Node::advance(ready):
//  1. persist `snapshot` (if any), `entries` (replacing any conflicting suffix) and `hardState`
//     (if set), durably;
//  2. send `messages`;
//  3. apply `snapshot` then `committed` to the state machine (a ConfChange entry: call
//     Node::applyConfChange);
//  4. serve `readStates` once the applied index reaches each one's index.
// (Persisting before sending is the rule that makes a crash safe: a vote or an acknowledgement
// never leaves a node that could forget it.)
struct Ready {
    std::optional<SoftState> softState; // when changed
    std::optional<HardState> hardState; // when changed
    std::vector<Entry> entries;         // new or overwritten log entries to persist
    std::optional<Snapshot> snapshot;   // received from the leader: persist and apply
    std::vector<Entry> committed;       // newly committed, in order, to apply
    std::vector<Message> messages;
    std::vector<ReadState> readStates;
    // The log has grown past Config::snapshotThreshold entries beyond the last snapshot: the
    // driver should take a snapshot at its applied index and call Node::compact.
    bool wantSnapshot = false;

    bool empty() const {
        return !softState && !hardState && entries.empty() && !snapshot && committed.empty() &&
               messages.empty() && readStates.empty() && !wantSnapshot;
    }
};

// Names for traces and logs ("Append", "AppendResp", "leader"); the scenario files use them.
const char* messageTypeName(MessageType type);
const char* roleName(Role role);

} // namespace troupe::raft
