#pragma once

// LogEntry: the unit that goes through the log (DESIGN §4) and is applied to LMDB by the
// Writer: catalog changes plus the write sets of one or more actors. Pages are carried in
// their stored form (page_codec), compressed once by the executor that captured them.
//
// Encoding (resources/docs/formats.md, "log entry"):
//   u8 version (1)
//   u32 catalog op count, each: u8 kind (1 create, 2 delete) | u64 id | u32 hash | u8 flags |
//                               u8 type len | type | u16 name len | name
//   u32 write set count, each:  u64 actor id | u32 db size in pages | u32 page count,
//                               each page: u32 pgno | u32 stored length | stored bytes
//   version 2 only (written when the entry has meta ops):
//   u32 meta op count, each:    u8 kind (1 put, 2 erase) | u16 key len | key |
//                               u32 value len | value (empty for erase)

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/catalog.h"

namespace troupe::storage {

struct CatalogOp {
    enum class Kind : std::uint8_t { Create = 1, Delete = 2 };
    Kind kind = Kind::Create;
    ActorRecord record; // Delete uses type and name (and id)
};

struct StoredPage {
    std::uint32_t pgno = 0; // 1-based SQLite page number
    std::string stored;     // encodePage() output
};

struct WriteSet {
    std::uint64_t actorId = 0;
    std::uint32_t dbPages = 0; // database size after the transaction; pages beyond are dropped
    std::vector<StoredPage> pages;
};

// A change of the `meta` database: the node's schema, users and id leases (the SQL layer's
// keys start with "sql/").
struct MetaOp {
    enum class Kind : std::uint8_t { Put = 1, Erase = 2 };
    Kind kind = Kind::Put;
    std::string key;
    std::string value;
};

struct LogEntry {
    std::vector<CatalogOp> catalogOps;
    std::vector<WriteSet> writeSets;
    std::vector<MetaOp> metaOps; // applied after the catalog ops and write sets

    std::size_t byteSize() const; // approximate payload size, for batching limits
};

std::string encodeLogEntry(const LogEntry& entry);
Result<LogEntry> decodeLogEntry(std::string_view bytes);

} // namespace troupe::storage
