#pragma once

// Record seals: the checksum trailer of every value TroupeDB stores in LMDB (on-disk format 2,
// resources/docs/formats.md "Record checksums").
//
//   value = payload | u32 crc | u32 magic 0x54437332 ("TCs2")      (big-endian)
//   crc   = CRC-32C over  u8 database tag | u32 key length | key | payload
//
// The checksum covers the record's key and its database, so a value read under another key (a
// damaged B-tree that leads to another valid record, a record copied elsewhere) fails as surely
// as a flipped byte in the value. Format 1 values have no trailer; they are read only while the
// environment is still at format 1 (Environment::legacyRecords()).
//
// Pure functions, any thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe::storage {

// The database a record lives in: part of what its checksum covers.
enum class RecordDb : std::uint8_t { Actors = 1, Pages = 2, RaftLog = 3, RaftState = 4, Meta = 5 };

inline constexpr std::size_t kSealSize = 8;
inline constexpr std::uint32_t kSealMagic = 0x54437332;

// The name of a database ("pages") and a readable form of a key in it ("actor 7 page 3").
std::string_view recordDbName(RecordDb db);
std::string describeRecordKey(RecordDb db, std::string_view key);

std::uint32_t recordChecksum(RecordDb db, std::string_view key, std::string_view payload);

// Writes payload and trailer to `out` (payload.size() + kSealSize bytes).
void sealInto(RecordDb db, std::string_view key, std::string_view payload, char* out);
std::string sealRecord(RecordDb db, std::string_view key, std::string_view payload);

// Whether `value` ends in a seal trailer (whatever its checksum).
bool looksSealed(std::string_view value);

// The payload of a stored value, checked. A sealed value whose checksum does not match, or an
// unsealed value when !legacyAllowed, is Corruption naming the database and key.
Result<std::string_view> unsealRecord(RecordDb db, std::string_view key, std::string_view value,
                                      bool legacyAllowed);

} // namespace troupe::storage
