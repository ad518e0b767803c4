#include "raft/progress.h"

#include <algorithm>

namespace troupe::raft {

void Inflights::add(Index last, std::uint64_t bytes) {
    m_items.push_back({last, bytes});
    m_bytes += bytes;
}

void Inflights::freeTo(Index index) {
    while (!m_items.empty() && m_items.front().last <= index) {
        m_bytes -= m_items.front().bytes;
        m_items.pop_front();
    }
}

void Inflights::freeFirst() {
    if (m_items.empty())
        return;
    m_bytes -= m_items.front().bytes;
    m_items.pop_front();
}

void Inflights::reset() {
    m_items.clear();
    m_bytes = 0;
}

bool Inflights::full() const {
    return static_cast<int>(m_items.size()) >= m_maxMessages || m_bytes >= m_maxBytes;
}

bool Progress::paused() const {
    switch (state) {
    case State::Probe:
        return probeSent;
    case State::Replicate:
        return inflights.full();
    case State::Snapshot:
        return true;
    }
    return true;
}

void Progress::becomeProbe() {
    // After a snapshot the follower holds at least the snapshot's index.
    if (state == State::Snapshot)
        next = std::max(match + 1, pendingSnapshot + 1);
    else
        next = match + 1;
    state = State::Probe;
    probeSent = false;
    pendingSnapshot = 0;
    snapshotOffset = 0;
    inflights.reset();
}

void Progress::becomeReplicate() {
    state = State::Replicate;
    next = match + 1;
    probeSent = false;
    pendingSnapshot = 0;
    inflights.reset();
}

void Progress::becomeSnapshot(Index snapshotIndex) {
    state = State::Snapshot;
    pendingSnapshot = snapshotIndex;
    snapshotOffset = 0;
    probeSent = false;
    inflights.reset();
}

bool Progress::maybeUpdate(Index index) {
    bool updated = false;
    if (match < index) {
        match = index;
        updated = true;
        probeSent = false;
    }
    next = std::max(next, index + 1);
    return updated;
}

bool Progress::maybeDecrTo(Index rejected, Index hint) {
    if (state == State::Replicate) {
        // Rejections of Appends below what the follower already matched are stale.
        if (rejected <= match)
            return false;
        next = match + 1;
        return true;
    }
    // Probe: only the answer to the outstanding probe counts.
    if (next - 1 != rejected)
        return false;
    next = std::max(std::min(rejected, hint + 1), match + 1);
    probeSent = false;
    return true;
}

} // namespace troupe::raft
