#pragma once

// Helpers of the Raft log store tests: log entries and membership to write, a gate that holds
// the storage writer so that what is submitted meanwhile forms one batch, and a fixture that opens
// (and reopens) an Environment with a Writer. Test code, any thread.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <QString>

#include "core/metrics.h"
#include "storage/raft_log_store.h"
#include "storage/writer.h"
#include "storage_test_util.h"

namespace troupe::storage::test {

using namespace std::chrono_literals;

// Holds the writer thread inside a completion until released (at the latest when the gate is
// destroyed), so that everything submitted meanwhile is taken as one batch. The state is shared
// with the completion, which may still be returning after the gate is gone.
class WriterGate {
public:
    explicit WriterGate(Writer& writer) : m_state(std::make_shared<State>()) {
        Writer::TxnWork nothing{[](MDB_txn*, Status*) { return Status::ok(); }, 0};
        writer.submitWork(std::move(nothing), false, [state = m_state](Status) {
            std::unique_lock lock(state->mutex);
            state->entered = true;
            state->cv.notify_all();
            state->cv.wait_for(lock, 60s, [&] { return state->released; });
        });
    }
    ~WriterGate() { release(); }
    bool waitEntered() {
        std::unique_lock lock(m_state->mutex);
        return m_state->cv.wait_for(lock, 60s, [&] { return m_state->entered; });
    }
    void release() {
        std::lock_guard lock(m_state->mutex);
        m_state->released = true;
        m_state->cv.notify_all();
    }

private:
    struct State {
        std::mutex mutex;
        std::condition_variable cv;
        bool entered = false;
        bool released = false;
    };
    std::shared_ptr<State> m_state;
};

// An environment, its writer and stores over it, reopenable on the same directory.
struct Fixture {
    QString dir;
    EnvironmentOptions options;
    bool withWriter = true;
    MetricsRegistry metrics;
    std::unique_ptr<Environment> env;
    std::unique_ptr<Writer> writer;

    bool open() {
        env = openEnv(dir, options);
        if (!env)
            return false;
        if (withWriter) {
            writer = std::make_unique<Writer>(*env, metrics);
            writer->start();
        }
        return true;
    }
    void close() {
        writer.reset();
        env.reset();
    }
    std::unique_ptr<RaftLogStore> store(std::uint32_t shard) {
        Result<std::unique_ptr<RaftLogStore>> s = RaftLogStore::open(*env, shard, writer.get());
        if (!s) {
            qWarning("store open failed: %s", str(s.status()));
            return nullptr;
        }
        return std::move(*s);
    }
    std::uint64_t counter(const char* name) { return metrics.counter(name, "").value(); }
};

inline raft::Entry entry(raft::Index index, raft::Term term, std::string data = {}) {
    return raft::Entry{index, term, raft::EntryType::Normal,
                       data.empty() ? "e" + std::to_string(index) : data};
}

// Entries lo..hi (inclusive) with the given term.
inline std::vector<raft::Entry> run(raft::Index lo, raft::Index hi, raft::Term term) {
    std::vector<raft::Entry> out;
    for (raft::Index i = lo; i <= hi; ++i)
        out.push_back(entry(i, term));
    return out;
}

inline raft::ConfState conf(std::vector<raft::NodeId> voters,
                            std::vector<raft::NodeId> learners = {}) {
    return raft::ConfState{std::move(voters), std::move(learners)};
}

inline bool sameEntries(const std::vector<raft::Entry>& a, const std::vector<raft::Entry>& b) {
    return a == b;
}

} // namespace troupe::storage::test
