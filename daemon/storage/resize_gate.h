#pragma once

// ResizeGate: lets the LMDB map grow safely. LMDB requires that no transaction is active in
// the process while mdb_env_set_mapsize runs; readers enter the gate shared for the life of a
// read transaction, and the writer closes the gate, waits for them to leave, resizes, reopens.
// Readers arriving while it is closed wait. Thread-safe.

#include <condition_variable>
#include <mutex>

namespace troupe::storage {

class ResizeGate {
public:
    void enterShared() {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return !m_closed; });
        ++m_readers;
    }
    // For a thread that already holds the gate shared (a second read transaction on the same
    // thread): waiting here could deadlock against closeAndDrain, so enter even when closed.
    void enterSharedNested() {
        std::lock_guard lock(m_mutex);
        ++m_readers;
    }
    void leaveShared() {
        std::lock_guard lock(m_mutex);
        if (--m_readers == 0 && m_closed)
            m_cv.notify_all();
    }
    // Closes the gate and waits until every reader has left.
    void closeAndDrain() {
        std::unique_lock lock(m_mutex);
        m_closed = true;
        m_cv.wait(lock, [&] { return m_readers == 0; });
    }
    void open() {
        std::lock_guard lock(m_mutex);
        m_closed = false;
        m_cv.notify_all();
    }

private:
    std::mutex m_mutex; // guards m_readers and m_closed
    std::condition_variable m_cv;
    int m_readers = 0;
    bool m_closed = false;
};

} // namespace troupe::storage
