#pragma once

// Read-only facts about one stored actor for administration (the Thrift admin_actor_info call):
// its catalog record, its size, and the schema version its database has applied. Read from the
// last committed state in one LMDB read transaction, without opening the actor in SQLite, so
// inspecting an actor neither migrates it nor queues behind its requests.
//
// Threads: any thread (a read transaction of its own).

#include <cstdint>
#include <string_view>

#include "core/status.h"
#include "sql/engine.h"

namespace troupe::sql {

struct ActorStorageInfo {
    std::uint64_t id = 0;            // catalog actor id
    std::uint32_t hash = 0;          // murmur3_32(name): the shard position
    std::uint32_t pages = 0;         // database size in SQLite pages (4 KiB)
    std::uint64_t fileBytes = 0;     // pages * page size: the size of its SQLite file
    std::uint64_t storedBytes = 0;   // bytes of its page records as stored (LZ4-compressed)
    std::uint32_t schemaVersion = 0; // SQLite user_version: schema statements applied
};

// NotFound when type(name) does not exist (or has been deleted).
Result<ActorStorageInfo> inspectActor(Engine& engine, std::string_view type, std::string_view name);

// The local shard of a hash among `shards` (as the KV router places keys).
unsigned shardOfHash(std::uint32_t hash, unsigned shards);

} // namespace troupe::sql
