// Unit tests of the Raft core's features beyond election and replication: snapshots, membership,
// reads (lease vs read-index), leader transfer and quiescence. Same TestCluster as
// tst_raft_node.cpp.

#include <QTest>

#include "raft/log_storage.h"
#include "raft/node.h"
#include "unit/raft/test_cluster.h"

using namespace troupe;
using namespace troupe::raft;
using namespace troupe::raft::test;

namespace {

bool hasRead(TestCluster& c, NodeId id, const std::string& context, Index* index = nullptr) {
    for (const ReadState& rs : c.peer(id).reads) {
        if (rs.context == context) {
            if (index)
                *index = rs.index;
            return true;
        }
    }
    return false;
}

// A heartbeat round acknowledged by everyone: starts the leader's lease.
void heartbeatRound(TestCluster& c, NodeId leader) {
    c.tick(leader);
    c.stabilize();
}

} // namespace

class TestRaftNodeFeatures : public QObject {
    Q_OBJECT
private slots:
    void snapshotSentInChunksAndInstalled();
    void lostSnapshotChunkIsResent();
    void wantSnapshotPastThreshold();
    void snapshotAlreadyInLogOnlyMovesCommit();
    void committedEntriesComeInBoundedReadies();
    void confChangeWaitsForCommitInLeaderTerm();
    void oneUncommittedConfChangeAtATime();
    void learnerGetsLogButNeitherVotesNorCounts();
    void removedLeaderStepsDownAfterCommit();
    void confChangeRevertedWhenTruncated();
    void leaseReadIsImmediate();
    void leaseExpiresWithoutQuorumAck();
    void readIndexNeedsHeartbeatRound();
    void followerReadIndexIsForwarded();
    void readWaitsForCommitInLeaderTerm();
    void transferToUpToDateFollower();
    void transferCatchesUpTargetFirst();
    void transferAbortsAfterElectionTimeout();
    void quietGroupSendsNothing();
    void leaderNodeAliveKeepsQuietFollower();
    void proposalWakesQuietGroup();
};

void TestRaftNodeFeatures::snapshotSentInChunksAndInstalled() {
    Config cfg = baseConfig();
    cfg.snapshotChunkBytes = 3;
    TestCluster c(cfg);
    c.addNodes({1, 2, 3});
    elect(c, 1);
    c.isolate(3);
    for (int i = 0; i < 20; ++i)
        QVERIFY(c.node(1).propose("v" + std::to_string(i)).isOk());
    c.stabilize();
    QCOMPARE(c.node(1).commitIndex(), Index(21));
    c.compact(1, 15); // data "state@15": 8 bytes, 3 chunks
    c.heal();
    int chunks = 0;
    c.setObserver([&](const Message& m) { chunks += m.type == MessageType::SnapshotChunk; });
    for (int i = 0; i < 5; ++i) {
        c.tickAll();
        c.stabilize();
    }
    QCOMPARE(chunks, 3);
    QCOMPARE(c.peer(3).storage->snapshotMeta().index, Index(15));
    QCOMPARE(c.peer(3).storage->snapshot()->data, std::string("state@15"));
    QCOMPARE(c.node(3).lastIndex(), Index(21));
    QCOMPARE(c.node(3).commitIndex(), Index(21));
    QCOMPARE(c.peer(3).appliedIndex, Index(21));
    QCOMPARE(c.node(3).conf().voters, (std::vector<NodeId>{1, 2, 3}));
    // After the snapshot it follows the log as usual.
    QVERIFY(c.node(1).propose("after").isOk());
    c.stabilize();
    QCOMPARE(appliedData(c, 3).back(), std::string("after"));
}

void TestRaftNodeFeatures::lostSnapshotChunkIsResent() {
    Config cfg = baseConfig();
    cfg.snapshotChunkBytes = 3;
    TestCluster c(cfg);
    c.addNodes({1, 2, 3});
    elect(c, 1);
    c.isolate(3);
    for (int i = 0; i < 10; ++i)
        QVERIFY(c.node(1).propose("v").isOk());
    c.stabilize();
    c.compact(1, 11); // "state@11": 8 bytes, chunks at offsets 0, 3, 6
    c.heal();
    c.tick(1);
    int offset3 = 0;
    bool dropped = false;
    for (int round = 0; round < 20; ++round) {
        c.processAll();
        auto& q = c.inflight();
        for (auto it = q.begin(); it != q.end(); ++it) {
            if (it->type == MessageType::SnapshotChunk && it->offset == 3) {
                ++offset3;
                if (!dropped) {
                    dropped = true;
                    q.erase(it);
                    break;
                }
            }
        }
        c.deliver();
        if (round % 3 == 2)
            c.tick(1); // heartbeats: their answers resume the transfer
    }
    c.stabilize();
    QVERIFY(dropped);
    QCOMPARE(offset3, 2); // sent again from the acknowledged offset, not from 0
    QCOMPARE(c.peer(3).storage->snapshot()->data, std::string("state@11"));
    QCOMPARE(c.node(3).commitIndex(), Index(11));
}

void TestRaftNodeFeatures::wantSnapshotPastThreshold() {
    Config cfg = baseConfig();
    cfg.snapshotThreshold = 5;
    TestCluster c(cfg);
    c.addNodes({1});
    c.node(1).campaign();
    c.processAll();
    for (int i = 0; i < 5; ++i)
        QVERIFY(c.node(1).propose("x").isOk());
    c.processAll();
    QVERIFY(c.peer(1).wantSnapshot);
    c.compact(1, c.peer(1).appliedIndex);
    QVERIFY(!c.peer(1).wantSnapshot);
    QVERIFY(c.node(1).propose("y").isOk());
    c.processAll();
    QVERIFY(!c.peer(1).wantSnapshot); // not again until the log grows past the threshold
    QCOMPARE(appliedData(c, 1).back(), std::string("y"));
}

void TestRaftNodeFeatures::snapshotAlreadyInLogOnlyMovesCommit() {
    TestCluster c(baseConfig());
    c.addNodes({1, 2, 3});
    elect(c, 1);
    for (int i = 0; i < 5; ++i)
        QVERIFY(c.node(1).propose("e" + std::to_string(i)).isOk());
    c.deliver([](const Message& m) { return m.type == MessageType::Append && m.to == 2; });
    c.inflight().clear();
    QCOMPARE(c.node(2).lastIndex(), Index(6));
    QCOMPARE(c.node(2).commitIndex(), Index(1));
    Message chunk;
    chunk.type = MessageType::SnapshotChunk;
    chunk.from = 1;
    chunk.to = 2;
    chunk.term = c.node(1).term();
    chunk.snapshot = SnapshotMeta{4, c.node(1).term(), c.node(1).conf()};
    chunk.data = "s";
    chunk.last = true;
    c.node(2).step(chunk);
    c.processAll();
    QCOMPARE(c.node(2).commitIndex(), Index(4));
    QCOMPARE(c.node(2).lastIndex(), Index(6)); // the log is kept
    QCOMPARE(c.peer(2).storage->snapshotMeta().index, Index(0));
    QCOMPARE(c.inflight().size(), std::size_t(1));
    // It vouches only for the prefix the snapshot covers, not for entries 5 and 6.
    QCOMPARE(c.inflight().front().type, MessageType::AppendResponse);
    QCOMPARE(c.inflight().front().index, Index(4));
}

void TestRaftNodeFeatures::committedEntriesComeInBoundedReadies() {
    Config cfg = baseConfig();
    cfg.id = 1;
    cfg.maxApplyBytes = 5;
    MemoryLogStorage storage;
    Snapshot initial;
    initial.meta.conf.voters = {1};
    QVERIFY(storage.applySnapshot(initial).isOk());
    auto node = std::move(Node::create(cfg, storage).value());
    node->campaign();
    for (int i = 0; i < 6; ++i)
        QVERIFY(node->propose("abc").isOk());
    QCOMPARE(node->commitIndex(), Index(7));
    std::vector<std::size_t> sizes;
    Index applied = 0;
    while (node->hasReady()) {
        Ready r = node->ready();
        QVERIFY(persist(storage, r).isOk());
        if (!r.committed.empty()) {
            QCOMPARE(r.committed.front().index, applied + 1); // in order, nothing skipped
            applied = r.committed.back().index;
            sizes.push_back(r.committed.size());
        }
        node->advance(r);
    }
    QCOMPARE(applied, Index(7));
    // The no-op and one "abc" (3 bytes), then one "abc" per Ready: 3 + 3 > 5.
    QCOMPARE(sizes, (std::vector<std::size_t>{2, 1, 1, 1, 1, 1}));
}

void TestRaftNodeFeatures::confChangeWaitsForCommitInLeaderTerm() {
    TestCluster c(baseConfig());
    c.addNodes({1, 2, 3});
    c.node(1).campaign();
    for (int i = 0; i < 4; ++i) // pre-vote and vote round trips, Appends held back
        c.deliver([](const Message& m) { return m.type != MessageType::Append; });
    QCOMPARE(c.node(1).role(), Role::Leader);
    auto early = c.node(1).changeMembership({ConfChange::Kind::AddLearner, 4});
    QCOMPARE(early.status().code(), ErrorCode::Busy);
    c.stabilize();
    QVERIFY(c.node(1).changeMembership({ConfChange::Kind::AddLearner, 4}).isOk());
}

void TestRaftNodeFeatures::oneUncommittedConfChangeAtATime() {
    TestCluster c(baseConfig());
    c.addNodes({1, 2, 3});
    elect(c, 1);
    QVERIFY(c.node(1).changeMembership({ConfChange::Kind::AddLearner, 4}).isOk());
    // Effective on the leader at once, but a second change waits for the first to commit.
    QCOMPARE(c.node(1).conf().learners, std::vector<NodeId>{4});
    auto second = c.node(1).changeMembership({ConfChange::Kind::AddLearner, 5});
    QCOMPARE(second.status().code(), ErrorCode::Busy);
    c.stabilize();
    QVERIFY(c.node(1).changeMembership({ConfChange::Kind::AddLearner, 5}).isOk());
    // Changes that do not apply are refused.
    c.stabilize();
    auto dup = c.node(1).changeMembership({ConfChange::Kind::AddLearner, 5});
    QCOMPARE(dup.status().code(), ErrorCode::InvalidArgument);
    auto promoteVoter = c.node(1).changeMembership({ConfChange::Kind::PromoteLearner, 2});
    QCOMPARE(promoteVoter.status().code(), ErrorCode::InvalidArgument);
}

void TestRaftNodeFeatures::learnerGetsLogButNeitherVotesNorCounts() {
    TestCluster c(baseConfig(false, false));
    c.addNodes({1, 2, 3});
    c.addNodes({4}, {1, 2, 3});
    elect(c, 1);
    QVERIFY(c.node(1).changeMembership({ConfChange::Kind::AddLearner, 4}).isOk());
    c.stabilize();
    QVERIFY(c.node(1).propose("a").isOk());
    c.stabilize();
    QCOMPARE(appliedData(c, 4), std::vector<std::string>{"a"});
    QCOMPARE(c.node(4).conf().learners, std::vector<NodeId>{4});
    // The learner does not count: with 2 and 3 cut off, nothing commits.
    c.partition({{1, 4}, {2, 3}});
    QVERIFY(c.node(1).propose("b").isOk());
    c.stabilize();
    QCOMPARE(c.node(4).lastIndex(), c.node(1).lastIndex());
    QVERIFY(c.node(1).commitIndex() < c.node(1).lastIndex());
    // Nor does it campaign.
    c.node(4).campaign();
    c.processAll();
    QCOMPARE(c.node(4).role(), Role::Follower);
    QCOMPARE(countMessages(c.inflight(), MessageType::Vote, 4), 0);
    // Promoted, it votes and counts: {1, 4} is a majority of {1, 2, 3, 4}? No — 2 of 4 is not.
    c.heal();
    c.stabilize();
    QVERIFY(c.node(1).changeMembership({ConfChange::Kind::PromoteLearner, 4}).isOk());
    c.stabilize();
    QCOMPARE(c.node(1).conf().voters, (std::vector<NodeId>{1, 2, 3, 4}));
    c.partition({{1, 4, 2}, {3}});
    QVERIFY(c.node(1).propose("c").isOk());
    c.stabilize();
    QCOMPARE(c.node(1).commitIndex(), c.node(1).lastIndex()); // 3 of 4
}

void TestRaftNodeFeatures::removedLeaderStepsDownAfterCommit() {
    TestCluster c(baseConfig());
    c.addNodes({1, 2, 3});
    elect(c, 1);
    QVERIFY(c.node(1).changeMembership({ConfChange::Kind::RemoveNode, 1}).isOk());
    // Still leading (and replicating) until the removal commits.
    QCOMPARE(c.node(1).role(), Role::Leader);
    c.stabilize();
    QCOMPARE(c.node(1).role(), Role::Follower);
    for (NodeId id : {2, 3})
        QCOMPARE(c.node(id).conf().voters, (std::vector<NodeId>{2, 3}));
    QVERIFY(c.runUntil([&] { return c.leader() == 2 || c.leader() == 3; }, 200));
    NodeId lead = c.leader();
    QVERIFY(c.node(lead).propose("z").isOk());
    c.stabilize();
    QCOMPARE(c.node(lead).commitIndex(), c.node(lead).lastIndex());
    // The removed node never campaigns.
    for (int i = 0; i < 50; ++i)
        c.tick(1);
    QCOMPARE(countMessages(c.inflight(), MessageType::PreVote, 1), 0);
}

void TestRaftNodeFeatures::confChangeRevertedWhenTruncated() {
    TestCluster c(baseConfig(false, false));
    c.addNodes({1, 2, 3});
    elect(c, 1);
    c.isolate(1);
    QVERIFY(c.node(1).changeMembership({ConfChange::Kind::AddLearner, 4}).isOk());
    c.stabilize();
    QCOMPARE(c.node(1).conf().learners, std::vector<NodeId>{4});
    elect(c, 2);
    QVERIFY(c.node(2).propose("n").isOk());
    c.stabilize();
    c.heal();
    c.tick(2);
    c.stabilize();
    // The uncommitted change was overwritten by leader 2's log: the configuration reverts.
    QCOMPARE(c.node(1).leader(), NodeId(2));
    QVERIFY(c.node(1).conf().learners.empty());
    QCOMPARE(c.node(1).conf().voters, (std::vector<NodeId>{1, 2, 3}));
}

void TestRaftNodeFeatures::leaseReadIsImmediate() {
    TestCluster c(baseConfig());
    c.addNodes({1, 2, 3});
    elect(c, 1);
    heartbeatRound(c, 1);
    QVERIFY(c.node(1).readIndex("r1").isOk());
    c.processAll();
    Index index = 0;
    QVERIFY(hasRead(c, 1, "r1", &index));
    QCOMPARE(index, c.node(1).commitIndex());
    QCOMPARE(c.inflight().size(), std::size_t(0)); // no round trip
}

void TestRaftNodeFeatures::leaseExpiresWithoutQuorumAck() {
    TestCluster c(baseConfig());
    c.addNodes({1, 2, 3});
    elect(c, 1);
    heartbeatRound(c, 1);
    c.isolate(1);
    // The lease: electionTicks (10) - leaseDriftTicks (2) from the acknowledged round's start.
    for (int i = 0; i < 7; ++i)
        c.tick(1);
    QVERIFY(c.node(1).readIndex("in").isOk());
    c.processAll();
    QVERIFY(hasRead(c, 1, "in"));
    c.tick(1);
    QVERIFY(c.node(1).readIndex("out").isOk());
    c.stabilize();
    QVERIFY(!hasRead(c, 1, "out")); // needs a quorum, which it cannot reach
    c.heal();
    c.tick(1);
    c.stabilize();
    QVERIFY(hasRead(c, 1, "out"));
}

void TestRaftNodeFeatures::readIndexNeedsHeartbeatRound() {
    Config cfg = baseConfig();
    cfg.leaseReads = false;
    TestCluster c(cfg);
    c.addNodes({1, 2, 3});
    elect(c, 1);
    heartbeatRound(c, 1);
    QVERIFY(c.node(1).readIndex("r").isOk());
    c.processAll();
    QVERIFY(!hasRead(c, 1, "r"));
    int withContext = 0;
    for (const Message& m : c.inflight())
        withContext += m.type == MessageType::Heartbeat && m.context == "r";
    QCOMPARE(withContext, 2);
    c.deliver([](const Message& m) { return m.to == 2 || m.from == 2; }); // 1 → 2
    c.deliver([](const Message& m) { return m.to == 1 && m.from == 2; }); // 2 → 1: a quorum
    Index index = 0;
    QVERIFY(hasRead(c, 1, "r", &index));
    QCOMPARE(index, c.node(1).commitIndex());
}

void TestRaftNodeFeatures::followerReadIndexIsForwarded() {
    TestCluster c(baseConfig());
    c.addNodes({1, 2, 3});
    elect(c, 1);
    QVERIFY(c.node(2).readIndex("f").isOk());
    c.stabilize();
    Index index = 0;
    QVERIFY(hasRead(c, 2, "f", &index));
    QCOMPARE(index, c.node(1).commitIndex());
    // A candidate without a leader cannot serve reads.
    c.isolate(3);
    for (int i = 0; i < 30; ++i)
        c.tick(3);
    QCOMPARE(c.node(3).readIndex("x").code(), ErrorCode::NotLeader);
}

void TestRaftNodeFeatures::readWaitsForCommitInLeaderTerm() {
    TestCluster c(baseConfig());
    c.addNodes({1, 2, 3});
    c.node(1).campaign();
    for (int i = 0; i < 4; ++i) // pre-vote and vote round trips, Appends held back
        c.deliver([](const Message& m) { return m.type != MessageType::Append; });
    QCOMPARE(c.node(1).role(), Role::Leader);
    QVERIFY(c.node(1).readIndex("early").isOk());
    c.processAll();
    QVERIFY(!hasRead(c, 1, "early"));
    c.stabilize();
    Index index = 0;
    QVERIFY(hasRead(c, 1, "early", &index));
    QCOMPARE(index, Index(1)); // the no-op of its term
}

void TestRaftNodeFeatures::transferToUpToDateFollower() {
    TestCluster c(baseConfig());
    c.addNodes({1, 2, 3});
    elect(c, 1);
    Term t = c.node(1).term();
    QVERIFY(c.node(1).transferLeadership(2).isOk());
    c.stabilize();
    QCOMPARE(c.node(2).role(), Role::Leader);
    QCOMPARE(c.node(2).term(), t + 1);
    QCOMPARE(c.node(1).leader(), NodeId(2));
}

void TestRaftNodeFeatures::transferCatchesUpTargetFirst() {
    TestCluster c(baseConfig());
    c.addNodes({1, 2, 3});
    elect(c, 1);
    c.cut(1, 3);
    QVERIFY(c.node(1).propose("a").isOk());
    c.stabilize();
    c.heal();
    QVERIFY(c.node(1).transferLeadership(3).isOk());
    QCOMPARE(c.node(1).propose("refused").status().code(), ErrorCode::Busy);
    c.tick(1);
    c.stabilize();
    QCOMPARE(c.node(3).role(), Role::Leader);
    QCOMPARE(appliedData(c, 3), std::vector<std::string>{"a"});
}

void TestRaftNodeFeatures::transferAbortsAfterElectionTimeout() {
    TestCluster c(baseConfig());
    c.addNodes({1, 2, 3});
    elect(c, 1);
    c.isolate(2);
    QVERIFY(c.node(1).transferLeadership(2).isOk());
    QCOMPARE(c.node(1).propose("x").status().code(), ErrorCode::Busy);
    for (int i = 0; i < 10; ++i) {
        c.tick(1);
        c.stabilize();
    }
    QCOMPARE(c.node(1).role(), Role::Leader);
    QVERIFY(c.node(1).propose("x").isOk());
}

void TestRaftNodeFeatures::quietGroupSendsNothing() {
    Config cfg = baseConfig();
    cfg.quiesce = true;
    TestCluster c(cfg);
    c.addNodes({1, 2, 3});
    elect(c, 1);
    QVERIFY(!c.node(1).quiescent());
    heartbeatRound(c, 1);
    QVERIFY(c.node(1).quiescent());
    QVERIFY(c.node(2).quiescent());
    QVERIFY(c.node(3).quiescent());
    for (int i = 0; i < 50; ++i)
        c.tick(1);
    QCOMPARE(c.inflight().size(), std::size_t(0));
    QCOMPARE(c.node(1).role(), Role::Leader); // and no check-quorum step-down
    // Without quiescence the same leader sends a heartbeat per tick.
    TestCluster loud(baseConfig());
    loud.addNodes({1, 2, 3});
    elect(loud, 1);
    for (int i = 0; i < 5; ++i)
        loud.tick(1);
    QCOMPARE(countMessages(loud.inflight(), MessageType::Heartbeat, 1), 10);
}

void TestRaftNodeFeatures::leaderNodeAliveKeepsQuietFollower() {
    Config cfg = baseConfig();
    cfg.quiesce = true;
    TestCluster c(cfg);
    c.addNodes({1, 2, 3});
    elect(c, 1);
    heartbeatRound(c, 1);
    QVERIFY(c.node(2).quiescent());
    for (int i = 0; i < 100; ++i) {
        c.node(2).leaderNodeAlive();
        c.tick(2);
    }
    QCOMPARE(c.inflight().size(), std::size_t(0));
    QCOMPARE(c.node(2).role(), Role::Follower);
    // When the leader's node stops being reported alive, the follower times out.
    for (int i = 0; i < 30; ++i)
        c.tick(2);
    QVERIFY(countMessages(c.inflight(), MessageType::PreVote, 2) > 0);
}

void TestRaftNodeFeatures::proposalWakesQuietGroup() {
    Config cfg = baseConfig();
    cfg.quiesce = true;
    TestCluster c(cfg);
    c.addNodes({1, 2, 3});
    elect(c, 1);
    heartbeatRound(c, 1);
    QVERIFY(c.node(1).quiescent());
    QVERIFY(c.node(1).propose("wake").isOk());
    QVERIFY(!c.node(1).quiescent());
    c.stabilize();
    QVERIFY(!c.node(2).quiescent());
    QCOMPARE(appliedData(c, 2), std::vector<std::string>{"wake"});
    heartbeatRound(c, 1);
    QVERIFY(c.node(1).quiescent());
    // A read on a quiet leader has no lease (its clock stopped): it confirms by a round.
    QVERIFY(c.node(1).readIndex("q").isOk());
    c.processAll();
    QVERIFY(!hasRead(c, 1, "q"));
    c.stabilize();
    QVERIFY(hasRead(c, 1, "q"));
}

QTEST_APPLESS_MAIN(TestRaftNodeFeatures)
#include "tst_raft_node_features.moc"
