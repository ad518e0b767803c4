#pragma once

// RowSpill: the rows of a large result kept in a temporary file instead of memory, so that a
// front end can send a result of any size with bounded memory (the MySQL server streams it).
//
// The query runs to its end as usual (its LMDB snapshot is held only that long, never while a
// slow client reads); rows beyond the request's memory limit are appended here. The file lives
// in the engine's spill directory (<data_dir>/tmp) and is gone when the RowSpill is destroyed,
// and on POSIX already when it is created (unlinked while open), so a crash leaves nothing.
//
// Format: per row, u32 value count, then per value a u8 tag (0 NULL, 1 INTEGER, 2 REAL, 3 TEXT,
// 4 BLOB) and its payload (i64 or IEEE double, little-endian; u32 length + bytes).
//
// Threads: one thread at a time (written by an executor thread, then read by the front end).

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "sql/value.h"

namespace troupe::sql {

class RowSpill {
public:
    // A new empty file in `dir` (created if missing). IoError naming the path on failure.
    static Result<std::shared_ptr<RowSpill>> create(const std::filesystem::path& dir);
    ~RowSpill();
    RowSpill(const RowSpill&) = delete;
    RowSpill& operator=(const RowSpill&) = delete;

    Status append(const std::vector<Value>& row);
    std::uint64_t rows() const { return m_rows; }
    std::uint64_t bytes() const { return m_bytes; }

    // Reading: from the first row; next() gives false after the last one.
    Status rewind();
    Result<bool> next(std::vector<Value>& row);

    // About what a row costs in memory, for the limit that starts spilling.
    static std::size_t memoryEstimate(const std::vector<Value>& row);

private:
    RowSpill(std::FILE* file, std::filesystem::path path);
    std::FILE* m_file;
    std::filesystem::path m_path; // removed in the destructor where it could not be unlinked
    std::uint64_t m_rows = 0;
    std::uint64_t m_bytes = 0;
    bool m_writing = true;
};

} // namespace troupe::sql
