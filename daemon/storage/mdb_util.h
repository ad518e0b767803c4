#pragma once

// Small LMDB helpers shared by the storage sources (not part of the storage API): MDB_val
// from and to string_view, and an owning cursor. Used inside one transaction, on its thread.

#include <string_view>

#include <lmdb.h>

#include "core/status.h"
#include "storage/environment.h"

namespace troupe::storage::detail {

inline MDB_val toVal(std::string_view s) {
    return MDB_val{s.size(), const_cast<char*>(s.data())};
}

inline std::string_view toView(const MDB_val& v) {
    return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

// A cursor closed on destruction (write-transaction cursors must be closed before commit;
// destroying the Cursor before the transaction ends does that).
class Cursor {
public:
    Cursor() = default;
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    ~Cursor() {
        if (m_cursor)
            mdb_cursor_close(m_cursor);
    }

    Status open(MDB_txn* txn, MDB_dbi dbi) {
        int rc = mdb_cursor_open(txn, dbi, &m_cursor);
        if (rc != 0) {
            m_cursor = nullptr;
            return Environment::fromMdb(rc, "opening cursor");
        }
        return Status::ok();
    }
    MDB_cursor* get() const { return m_cursor; }

private:
    MDB_cursor* m_cursor = nullptr;
};

} // namespace troupe::storage::detail
