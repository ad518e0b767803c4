// Snapshots (§7): the driver compacts the log when Ready::wantSnapshot asks; a follower whose
// next entry was compacted away receives the latest snapshot in chunks of snapshotChunkBytes,
// one chunk in flight, resumed from the follower's acknowledged offset after a loss (the next
// heartbeat answer re-sends). The follower assembles the chunks and hands the whole snapshot to
// its driver in Ready::snapshot; a log that conflicts with it is dropped.

#include <algorithm>

#include "raft/node_state.h"

namespace troupe::raft {

void Node::State::sendSnapshot(NodeId to) {
    auto it = progress.find(to);
    if (it == progress.end())
        return;
    auto snap = storage.snapshot();
    if (!snap)
        return; // retried on the next heartbeat answer
    it->second.becomeSnapshot(snap->meta.index);
    sendSnapshotChunk(to);
}

void Node::State::sendSnapshotChunk(NodeId to) {
    auto it = progress.find(to);
    if (it == progress.end() || it->second.state != Progress::State::Snapshot)
        return;
    Progress& pr = it->second;
    auto snap = storage.snapshot();
    if (!snap)
        return;
    if (snap->meta.index != pr.pendingSnapshot) {
        // Compacted again meanwhile: start over with the newer snapshot.
        pr.becomeSnapshot(snap->meta.index);
    }
    std::uint64_t offset = std::min<std::uint64_t>(pr.snapshotOffset, snap->data.size());
    std::uint64_t size = std::min<std::uint64_t>(std::max<std::uint64_t>(cfg.snapshotChunkBytes, 1),
                                                 snap->data.size() - offset);
    Message m;
    m.type = MessageType::SnapshotChunk;
    m.to = to;
    m.snapshot = snap->meta;
    m.offset = offset;
    m.data = snap->data.substr(offset, size);
    m.last = offset + size == snap->data.size();
    m.commit = committed;
    send(std::move(m));
}

void Node::State::handleSnapshotChunk(const Message& m) {
    if (!m.snapshot)
        return;
    const SnapshotMeta& meta = *m.snapshot;
    Message r;
    r.to = m.from;
    if (meta.index <= committed) {
        // Already have everything it contains.
        incoming.reset();
        r.type = MessageType::AppendResponse;
        r.index = committed;
        r.commit = committed;
        send(std::move(r));
        return;
    }
    if (m.offset == 0)
        incoming = Incoming{meta, std::string(), m.from};
    r.type = MessageType::SnapshotResponse;
    if (!incoming || !(incoming->meta == meta) || incoming->data.size() != m.offset) {
        if (incoming && incoming->meta == meta && m.offset < incoming->data.size()) {
            r.index = incoming->data.size(); // a duplicate: tell the leader where we are
        } else {
            incoming.reset();
            r.reject = true; // the leader restarts from offset 0
        }
        send(std::move(r));
        return;
    }
    incoming->data += m.data;
    if (!m.last) {
        r.index = incoming->data.size();
        send(std::move(r));
        return;
    }
    Snapshot snap{incoming->meta, std::move(incoming->data)};
    incoming.reset();
    // Installed: the log is exactly the snapshot. Already contained: only the prefix up to the
    // commit index is known to match the leader's, not whatever follows it.
    bool installed = restore(snap);
    r.type = MessageType::AppendResponse;
    r.index = installed ? lastIndex() : committed;
    r.commit = committed;
    send(std::move(r));
}

void Node::State::handleSnapshotResponse(const Message& m) {
    auto it = progress.find(m.from);
    if (it == progress.end() || it->second.state != Progress::State::Snapshot)
        return;
    Progress& pr = it->second;
    pr.recentActive = true;
    if (m.reject)
        pr.snapshotOffset = 0;
    else if (m.index > pr.snapshotOffset)
        pr.snapshotOffset = m.index;
    else
        return; // stale answer: a chunk for the current offset is already in flight
    sendSnapshotChunk(m.from);
}

// Installs a snapshot from the leader. Returns false when the log already contains it (then only
// the commit index moves).
bool Node::State::restore(const Snapshot& snapshot) {
    const SnapshotMeta& meta = snapshot.meta;
    if (matchTerm(meta.index, meta.term)) {
        commitTo(meta.index);
        return false;
    }
    pendingSnapshot = snapshot;
    unstable.clear();
    unstableOffset = meta.index + 1;
    committed = meta.index;
    baseConf = meta.conf;
    confLog.clear();
    recomputeConf();
    return true;
}

void Node::compacted(Index index) {
    State& s = *m_state;
    (void)index;
    s.snapshotRequested = false;
}

} // namespace troupe::raft
