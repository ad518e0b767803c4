#include "linearizability.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <unordered_set>

namespace troupe::raft::sim {
namespace {

// The search over one key's operations (sorted by invocation).
class KeySearch {
public:
    KeySearch(std::vector<Operation> ops, std::uint64_t maxStates)
        : m_ops(std::move(ops)), m_maxStates(maxStates), m_done(m_ops.size(), false),
          m_words((m_ops.size() + 63) / 64, 0) {
        for (const Operation& op : m_ops) {
            if (op.response != kPending)
                ++m_completedLeft;
        }
        m_bestLeft = m_completedLeft;
    }

    bool run() { return search(-1); }
    bool exhausted() const { return m_exhausted; }
    std::uint64_t states() const { return m_memo.size(); }

    // Why the search failed: the completed operation that could not be placed at the deepest
    // point reached, then the key's whole history.
    std::string explain() const {
        std::string s;
        if (m_blocker >= 0)
            s += "cannot place " + describe(m_ops[m_blocker]) + "\n";
        s += "history of this key:\n";
        for (const Operation& op : m_ops)
            s += "  " + describe(op) + "\n";
        return s;
    }

private:
    const std::string& valueOf(int write) const {
        static const std::string absent;
        return write < 0 ? absent : m_ops[write].value;
    }

    bool remember(int value) {
        std::string key(reinterpret_cast<const char*>(m_words.data()),
                        m_words.size() * sizeof(std::uint64_t));
        key.append(reinterpret_cast<const char*>(&value), sizeof value);
        return m_memo.insert(std::move(key)).second;
    }

    void mark(std::size_t i, bool on) {
        m_done[i] = on;
        if (on)
            m_words[i / 64] |= (std::uint64_t{1} << (i % 64));
        else
            m_words[i / 64] &= ~(std::uint64_t{1} << (i % 64));
        if (m_ops[i].response != kPending)
            m_completedLeft += on ? -1 : 1;
    }

    // `value`: index of the write whose value the register holds, -1 for the initial (absent).
    bool search(int value) {
        if (m_completedLeft == 0)
            return true;
        if (m_memo.size() >= m_maxStates) {
            m_exhausted = true;
            return false;
        }
        std::uint64_t minResponse = kPending;
        int minOp = -1;
        for (std::size_t i = 0; i < m_ops.size(); ++i) {
            if (!m_done[i] && m_ops[i].response < minResponse) {
                minResponse = m_ops[i].response;
                minOp = static_cast<int>(i);
            }
        }
        if (m_completedLeft < m_bestLeft) {
            m_bestLeft = m_completedLeft;
            m_blocker = minOp;
        } else if (m_blocker < 0) {
            m_blocker = minOp;
        }
        // Candidates: operations invoked before the earliest pending response (nothing still
        // to be placed finished before they began).
        //
        // A candidate read that matches the register is placed at once, without branching: a
        // read changes nothing, so any linearization that places it later stays valid with it
        // moved here (it is minimal, so no real-time order forbids the move). This is what keeps
        // histories with many overlapping reads from exploding.
        for (std::size_t i = 0; i < m_ops.size() && m_ops[i].invoke < minResponse; ++i) {
            const Operation& op = m_ops[i];
            if (m_done[i] || op.kind != Operation::Kind::Read || op.value != valueOf(value))
                continue;
            mark(i, true);
            if (remember(value) && search(value))
                return true;
            mark(i, false);
            return false;
        }
        for (std::size_t i = 0; i < m_ops.size() && m_ops[i].invoke < minResponse; ++i) {
            if (m_done[i])
                continue;
            const Operation& op = m_ops[i];
            int next = value;
            if (op.kind == Operation::Kind::Read) {
                if (op.value != valueOf(value))
                    continue;
            } else {
                next = static_cast<int>(i);
            }
            mark(i, true);
            if (remember(next) && search(next))
                return true;
            mark(i, false);
            if (m_exhausted)
                return false;
        }
        return false;
    }

    std::vector<Operation> m_ops;
    std::uint64_t m_maxStates;
    std::vector<bool> m_done;
    std::vector<std::uint64_t> m_words; // m_done as a bitset, the memo key
    std::unordered_set<std::string> m_memo;
    std::int64_t m_completedLeft = 0;
    std::int64_t m_bestLeft = 0;
    int m_blocker = -1;
    bool m_exhausted = false;
};

} // namespace

LinearizabilityResult checkLinearizable(const std::vector<Operation>& ops,
                                        std::uint64_t maxStates) {
    // Values some completed read returned, per key.
    std::map<std::string, std::set<std::string>> observed;
    for (const Operation& op : ops) {
        if (!op.removed && op.kind == Operation::Kind::Read && op.response != kPending)
            observed[op.key].insert(op.value);
    }
    std::map<std::string, std::vector<Operation>> byKey;
    for (const Operation& op : ops) {
        if (op.removed)
            continue;
        // A read that never answered told nobody anything: it constrains nothing. A pending
        // write whose value nobody read can be left out too: in any linearization that places
        // it, no read sits between it and the next write, so dropping it leaves a legal order
        // (and every pending write costs the search a factor of up to two).
        if (op.response == kPending &&
            (op.kind == Operation::Kind::Read || !observed[op.key].contains(op.value)))
            continue;
        byKey[op.key].push_back(op);
    }
    LinearizabilityResult result;
    for (auto& [key, keyOps] : byKey) {
        std::sort(keyOps.begin(), keyOps.end(),
                  [](const Operation& a, const Operation& b) { return a.invoke < b.invoke; });
        KeySearch search(std::move(keyOps), maxStates);
        bool ok = search.run();
        result.states += search.states();
        if (!ok) {
            result.linearizable = false;
            result.exhausted = search.exhausted();
            result.key = key;
            result.detail = search.explain();
            return result;
        }
    }
    return result;
}

} // namespace troupe::raft::sim
