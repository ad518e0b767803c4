#pragma once

// MultiRaft: every Raft group of one server, driven together. Owned by the server's Raft
// driver; single-threaded (one owner calls everything).
//
//  - Messages of all groups between two servers travel in one Batch per tick (process()).
//  - Groups with nothing to do go quiet (Config::quiesce, node.h) and are neither ticked nor
//    processed: an idle group costs nothing per tick. Only the active set is touched.
//  - Liveness is per server, not per group: every batch (an empty one each tick at least) tells
//    the receiver that the sender is alive. When a server has not been heard from for
//    electionTicks, the quiet followers whose leader it was are woken; they tick again and
//    campaign after their election timeout.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "raft/log_storage.h"
#include "raft/node.h"

namespace troupe::raft {

class MultiRaft {
public:
    struct Batch {
        NodeId from = kNoNode;
        NodeId to = kNoNode;
        std::vector<Message> messages; // may be empty: then it is only the node heartbeat
    };

    // The state-machine side of the driver, called from process() for each group's Ready after
    // it was persisted: apply `ready.snapshot`, then `ready.committed`, and serve
    // `ready.readStates` (types.h, steps 3 and 4). ConfChange entries need no action here.
    class Applier {
    public:
        virtual ~Applier() = default;
        virtual void apply(GroupId group, const Ready& ready) = 0;
    };

    // Step 1 of the Ready protocol for many groups at once: the LMDB store makes all of them
    // durable in one transaction and one fsync (group commit across groups). Without one,
    // raft::persist() runs per group. Must return only when everything is durable.
    struct PersistItem {
        GroupId group = 0;
        LogStorage* storage = nullptr;
        const Ready* ready = nullptr;
    };
    class Persister {
    public:
        virtual ~Persister() = default;
        virtual Status persist(const std::vector<PersistItem>& items) = 0;
    };

    // `electionTicks`: how long a silent server counts as alive (use the groups' value).
    explicit MultiRaft(NodeId self, int electionTicks = 10);
    ~MultiRaft();
    MultiRaft(const MultiRaft&) = delete;
    MultiRaft& operator=(const MultiRaft&) = delete;

    // Creates (or restores from `storage`) a group; config.id is set to this server and
    // config.quiesce on. `storage` outlives the group.
    Status createGroup(Config config, LogStorage& storage);
    Status removeGroup(GroupId group);
    // The group's core, for inspection (nullptr if unknown). Mutate through the methods below
    // so the group is marked active.
    const Node* group(GroupId group) const;

    Result<Index> propose(GroupId group, std::string data);
    Status readIndex(GroupId group, std::string context);
    Result<Index> changeMembership(GroupId group, const ConfChange& change);
    Status transferLeadership(GroupId group, NodeId to);
    Status campaign(GroupId group);
    // Not owned; nullptr restores the per-group default.
    void setPersister(Persister* persister) { m_persister = persister; }

    // A batch from another server: steps each message into its group (unknown groups are
    // dropped and counted) and notes that the sender is alive.
    void receive(const Batch& batch);
    // Advances time: ticks the active groups, and wakes the quiet followers of servers that
    // have been silent for electionTicks.
    void tick();
    // Runs the Ready loop of every group touched since the last call (persist — all groups in
    // one Persister call —, apply, advance) and returns one batch per destination server; after a
    // tick, every peer server gets a batch even if empty (the node-level heartbeat). An error from
    // storage is returned as is: the groups' state is then undefined and the server must stop.
    Result<std::vector<Batch>> process(Applier* applier);

    NodeId id() const { return m_self; }
    std::size_t groupCount() const { return m_groups.size(); }
    std::size_t activeCount() const { return m_active.size(); }
    std::size_t quietCount() const { return m_groups.size() - m_active.size(); }
    std::uint64_t droppedMessages() const { return m_dropped; }
    // Groups ticked so far (all ticks): the measure of per-tick work.
    std::uint64_t groupTicks() const { return m_groupTicks; }

private:
    struct Group {
        std::unique_ptr<Node> node;
        LogStorage* storage = nullptr;
        bool quiet = false;
        NodeId quietLeader = kNoNode;
        std::vector<NodeId> members; // peers in its configuration, for the peer set
    };

    Group* find(GroupId group);
    Status persistAll(const std::vector<PersistItem>& items);
    void touch(GroupId id, Group& g);
    void activate(GroupId id, Group& g);
    void quiesce(GroupId id, Group& g);
    void updateMembers(Group& g);
    void setPeers(Group& g, std::vector<NodeId> members);

    NodeId m_self;
    Persister* m_persister = nullptr;
    int m_electionTicks;
    std::int64_t m_now = 0;
    bool m_ticked = false;
    std::unordered_map<GroupId, Group> m_groups;
    std::set<GroupId> m_active; // ticked
    std::set<GroupId> m_dirty;  // may have a Ready
    std::map<NodeId, std::set<GroupId>> m_quietByLeader;
    std::map<NodeId, int> m_peerRefs; // servers in some group's configuration
    struct Liveness {
        std::int64_t lastHeard = 0;
        bool alive = true;
    };
    std::map<NodeId, Liveness> m_liveness;
    std::uint64_t m_dropped = 0;
    std::uint64_t m_groupTicks = 0;
};

} // namespace troupe::raft
