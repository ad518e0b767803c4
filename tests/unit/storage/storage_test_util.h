#pragma once

// Helpers shared by the storage tests: deterministic page contents, write sets and catalog
// ops, and opening an Environment in a temporary directory. Test code, any thread.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <QTemporaryDir>
#include <QTest>

#include "core/status.h"
#include "storage/environment.h"
#include "storage/log_entry.h"
#include "storage/page_codec.h"
#include "storage/page_store.h"

namespace troupe::storage::test {

using Page = std::array<std::uint8_t, kPageSize>;

// Collects the completions of submitted work (from any thread); the test waits for them with a
// deadline. add() makes a completion callback; add(status) records one directly.
class Completions {
public:
    std::function<void(Status)> add() {
        return [this](Status s) { add(std::move(s)); };
    }
    void add(Status s) {
        std::lock_guard lock(m_mutex);
        m_statuses.push_back(std::move(s));
        m_cv.notify_all();
    }
    bool waitFor(std::size_t n, std::chrono::seconds timeout = std::chrono::seconds(60)) {
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, timeout, [&] { return m_statuses.size() >= n; });
    }
    std::vector<Status> statuses() {
        std::lock_guard lock(m_mutex);
        return m_statuses;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<Status> m_statuses;
};

enum class PageKind { Text, Random, Zero };

// A page whose contents depend only on (seed, kind).
inline Page makePage(std::uint64_t seed, PageKind kind = PageKind::Text) {
    Page page{};
    if (kind == PageKind::Zero)
        return page;
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 1);
    if (kind == PageKind::Random) {
        for (auto& b : page)
            b = std::uint8_t(rng());
        return page;
    }
    std::string text;
    while (text.size() < kPageSize)
        text += "row " + std::to_string(rng() % 1000) + ": hello from seed " +
                std::to_string(seed) + ";\n";
    std::memcpy(page.data(), text.data(), kPageSize);
    return page;
}

inline std::string storedPage(const Page& page) {
    std::string out;
    encodePage(page.data(), out);
    return out;
}

// A write set of pages 1..pageCount of `actorId`, contents from seed actorId * 1000 + pgno.
inline WriteSet makeWriteSet(std::uint64_t actorId, std::uint32_t pageCount,
                             PageKind kind = PageKind::Text) {
    WriteSet ws;
    ws.actorId = actorId;
    ws.dbPages = pageCount;
    for (std::uint32_t pgno = 1; pgno <= pageCount; ++pgno)
        ws.pages.push_back(StoredPage{pgno, storedPage(makePage(actorId * 1000 + pgno, kind))});
    return ws;
}

inline CatalogOp createOp(std::string type, std::string name, std::uint64_t id) {
    CatalogOp op;
    op.kind = CatalogOp::Kind::Create;
    op.record.type = std::move(type);
    op.record.name = std::move(name);
    op.record.id = id;
    op.record.hash = std::uint32_t(id * 2654435761u);
    return op;
}

inline CatalogOp deleteOp(std::string type, std::string name, std::uint64_t id = 0) {
    CatalogOp op = createOp(std::move(type), std::move(name), id);
    op.kind = CatalogOp::Kind::Delete;
    return op;
}

// True when every page 1..pageCount of `actorId` reads back as makeWriteSet wrote it.
inline bool actorPagesIntact(Environment& env, MDB_txn* txn, std::uint64_t actorId,
                             std::uint32_t pageCount, PageKind kind = PageKind::Text) {
    Result<std::uint32_t> size = PageStore::dbSize(env, txn, actorId);
    if (!size || *size != pageCount)
        return false;
    Page page;
    for (std::uint32_t pgno = 1; pgno <= pageCount; ++pgno) {
        if (!PageStore::readPage(env, txn, actorId, pgno, page.data()))
            return false;
        if (page != makePage(actorId * 1000 + pgno, kind))
            return false;
    }
    return true;
}

inline std::unique_ptr<Environment> openEnv(const QString& dir, EnvironmentOptions options = {}) {
    Result<std::unique_ptr<Environment>> env = Environment::open(dir.toStdString(), options);
    if (!env) {
        qWarning("open failed: %s", env.status().toString().c_str());
        return nullptr;
    }
    return std::move(*env);
}

inline const char* str(const Status& s) {
    thread_local std::string text;
    text = s.toString();
    return text.c_str();
}

} // namespace troupe::storage::test
