// Record seals: checksum trailers over database, key and payload (layout in record_seal.h and
// resources/docs/formats.md).

#include "storage/record_seal.h"

#include <cstring>

#include "core/bytes.h"
#include "storage/checksum.h"

namespace troupe::storage {

namespace {

std::string hexKey(std::string_view key) {
    static const char* kDigits = "0123456789abcdef";
    std::string out = "0x";
    for (unsigned char c : key.substr(0, 64)) {
        out.push_back(kDigits[c >> 4]);
        out.push_back(kDigits[c & 15]);
    }
    if (key.size() > 64)
        out += "...";
    return out;
}

std::string printable(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c >= 0x7f)
            return hexKey(s);
    return std::string(s);
}

} // namespace

std::string_view recordDbName(RecordDb db) {
    switch (db) {
    case RecordDb::Actors:
        return "actors";
    case RecordDb::Pages:
        return "pages";
    case RecordDb::RaftLog:
        return "raftlog";
    case RecordDb::RaftState:
        return "raftstate";
    case RecordDb::Meta:
        return "meta";
    }
    return "unknown";
}

std::string describeRecordKey(RecordDb db, std::string_view key) {
    const char* p = key.data();
    switch (db) {
    case RecordDb::Pages:
        if (key.size() == 12)
            return "actor " + std::to_string(getBigEndian64(p)) + " page " +
                   std::to_string(getBigEndian32(p + 8));
        break;
    case RecordDb::RaftLog:
        if (key.size() == 12)
            return "raft log shard " + std::to_string(getBigEndian32(p)) + " index " +
                   std::to_string(getBigEndian64(p + 4));
        break;
    case RecordDb::RaftState:
        if (key.size() == 4)
            return "raft state of shard " + std::to_string(getBigEndian32(p));
        if (key.size() == 5)
            return "raft snapshot data of shard " + std::to_string(getBigEndian32(p));
        break;
    case RecordDb::Actors:
        if (!key.empty() && key.size() >= 1 + std::size_t(std::uint8_t(key[0]))) {
            const std::size_t typeLen = std::uint8_t(key[0]);
            return "catalog record of actor " + printable(key.substr(1, typeLen)) + "(" +
                   printable(key.substr(1 + typeLen)) + ")";
        }
        break;
    case RecordDb::Meta:
        return "meta key " + printable(key);
    }
    return std::string(recordDbName(db)) + " key " + hexKey(key);
}

std::uint32_t recordChecksum(RecordDb db, std::string_view key, std::string_view payload) {
    char head[5] = {char(db), char(key.size() >> 24), char(key.size() >> 16), char(key.size() >> 8),
                    char(key.size())};
    std::uint32_t crc = crc32cExtend(0, head, sizeof head);
    crc = crc32cExtend(crc, key.data(), key.size());
    return crc32cExtend(crc, payload.data(), payload.size());
}

void sealInto(RecordDb db, std::string_view key, std::string_view payload, char* out) {
    if (!payload.empty())
        std::memmove(out, payload.data(), payload.size());
    const std::uint32_t crc = recordChecksum(db, key, payload);
    char* t = out + payload.size();
    const std::uint32_t words[2] = {crc, kSealMagic};
    for (int w = 0; w < 2; ++w)
        for (int i = 0; i < 4; ++i)
            t[4 * w + i] = char(words[w] >> (24 - 8 * i));
}

std::string sealRecord(RecordDb db, std::string_view key, std::string_view payload) {
    std::string out(payload.size() + kSealSize, '\0');
    sealInto(db, key, payload, out.data());
    return out;
}

bool looksSealed(std::string_view value) {
    return value.size() >= kSealSize &&
           getBigEndian32(value.data() + value.size() - 4) == kSealMagic;
}

Result<std::string_view> unsealRecord(RecordDb db, std::string_view key, std::string_view value,
                                      bool legacyAllowed) {
    if (!looksSealed(value)) {
        if (legacyAllowed)
            return value;
        return Status(ErrorCode::Corruption,
                      describeRecordKey(db, key) + " has no checksum (damaged trailer)");
    }
    const std::string_view payload = value.substr(0, value.size() - kSealSize);
    const std::uint32_t stored = getBigEndian32(value.data() + payload.size());
    if (stored != recordChecksum(db, key, payload))
        return Status(ErrorCode::Corruption,
                      describeRecordKey(db, key) + " fails its checksum (damaged data)");
    return payload;
}

} // namespace troupe::storage
