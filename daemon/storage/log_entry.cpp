// LogEntry encoding: the bytes a LogEntry takes in the log (layout in log_entry.h and
// resources/docs/formats.md). Decoding never trusts a count or length before checking that
// the input holds that many bytes.

#include "storage/log_entry.h"

#include "core/bytes.h"

namespace troupe::storage {

namespace {

constexpr std::uint8_t kEntryVersion = 1;     // without meta ops
constexpr std::uint8_t kEntryVersionMeta = 2; // with meta ops
// Smallest encodings, used to reject counts that cannot fit in the remaining bytes.
constexpr std::size_t kMinCatalogOp = 1 + 8 + 4 + 1 + 1 + 2;
constexpr std::size_t kMinWriteSet = 8 + 4 + 4;
constexpr std::size_t kMinPage = 4 + 4;
constexpr std::size_t kMinMetaOp = 1 + 2 + 4;

void putBigEndian16(std::string& out, std::uint16_t v) {
    out.push_back(char(v >> 8));
    out.push_back(char(v));
}

Status corrupt(const std::string& what) {
    return Status(ErrorCode::Corruption, "log entry: " + what);
}

} // namespace

std::size_t LogEntry::byteSize() const {
    std::size_t n = 16;
    for (const CatalogOp& op : catalogOps)
        n += kMinCatalogOp + op.record.type.size() + op.record.name.size();
    for (const WriteSet& ws : writeSets) {
        n += kMinWriteSet;
        for (const StoredPage& p : ws.pages)
            n += kMinPage + p.stored.size();
    }
    for (const MetaOp& op : metaOps)
        n += kMinMetaOp + op.key.size() + op.value.size();
    return n;
}

std::string encodeLogEntry(const LogEntry& entry) {
    std::string out;
    out.reserve(entry.byteSize());
    out.push_back(char(entry.metaOps.empty() ? kEntryVersion : kEntryVersionMeta));
    putBigEndian32(out, std::uint32_t(entry.catalogOps.size()));
    for (const CatalogOp& op : entry.catalogOps) {
        const ActorRecord& r = op.record;
        out.push_back(char(op.kind));
        putBigEndian64(out, r.id);
        putBigEndian32(out, r.hash);
        out.push_back(char(r.flags));
        // Lengths are bounded by kMaxTypeLength / kMaxNameLength (validateActorKey).
        out.push_back(char(std::uint8_t(r.type.size())));
        out.append(r.type, 0, 0xff);
        putBigEndian16(out, std::uint16_t(r.name.size()));
        out.append(r.name, 0, 0xffff);
    }
    putBigEndian32(out, std::uint32_t(entry.writeSets.size()));
    for (const WriteSet& ws : entry.writeSets) {
        putBigEndian64(out, ws.actorId);
        putBigEndian32(out, ws.dbPages);
        putBigEndian32(out, std::uint32_t(ws.pages.size()));
        for (const StoredPage& p : ws.pages) {
            putBigEndian32(out, p.pgno);
            putBigEndian32(out, std::uint32_t(p.stored.size()));
            out += p.stored;
        }
    }
    if (!entry.metaOps.empty()) {
        putBigEndian32(out, std::uint32_t(entry.metaOps.size()));
        for (const MetaOp& op : entry.metaOps) {
            out.push_back(char(op.kind));
            putBigEndian16(out, std::uint16_t(op.key.size())); // keys are short (checked)
            out.append(op.key, 0, 0xffff);
            putBigEndian32(out, std::uint32_t(op.value.size()));
            out += op.value;
        }
    }
    return out;
}

Result<LogEntry> decodeLogEntry(std::string_view bytes) {
    ByteReader r(bytes);
    const std::uint8_t version = r.u8();
    if (!r.ok())
        return corrupt("empty");
    if (version != kEntryVersion && version != kEntryVersionMeta)
        return corrupt("unknown version " + std::to_string(version));

    // Bytes left in the input; valid while r.ok().
    std::size_t used = 1;
    auto left = [&] { return bytes.size() - used; };

    LogEntry entry;
    const std::uint32_t opCount = r.u32();
    used += 4;
    if (!r.ok() || opCount > left() / kMinCatalogOp)
        return corrupt("catalog op count does not fit");
    entry.catalogOps.reserve(opCount);
    for (std::uint32_t i = 0; i < opCount; ++i) {
        CatalogOp op;
        const std::uint8_t kind = r.u8();
        if (kind != std::uint8_t(CatalogOp::Kind::Create) &&
            kind != std::uint8_t(CatalogOp::Kind::Delete))
            return corrupt("unknown catalog op kind " + std::to_string(kind));
        op.kind = CatalogOp::Kind(kind);
        op.record.id = r.u64();
        op.record.hash = r.u32();
        op.record.flags = r.u8();
        const std::uint8_t typeLen = r.u8();
        op.record.type = std::string(r.bytes(typeLen));
        const std::uint8_t hi = r.u8();
        const std::uint8_t lo = r.u8();
        const std::size_t nameLen = std::size_t(hi) << 8 | lo;
        op.record.name = std::string(r.bytes(nameLen));
        if (!r.ok())
            return corrupt("truncated catalog op");
        used += kMinCatalogOp + typeLen + nameLen;
        entry.catalogOps.push_back(std::move(op));
    }

    const std::uint32_t wsCount = r.u32();
    used += 4;
    if (!r.ok() || wsCount > left() / kMinWriteSet)
        return corrupt("write set count does not fit");
    entry.writeSets.reserve(wsCount);
    for (std::uint32_t i = 0; i < wsCount; ++i) {
        WriteSet ws;
        ws.actorId = r.u64();
        ws.dbPages = r.u32();
        const std::uint32_t pageCount = r.u32();
        used += kMinWriteSet;
        if (!r.ok() || pageCount > left() / kMinPage)
            return corrupt("page count does not fit");
        ws.pages.reserve(pageCount);
        for (std::uint32_t j = 0; j < pageCount; ++j) {
            StoredPage p;
            p.pgno = r.u32();
            const std::uint32_t len = r.u32();
            p.stored = std::string(r.bytes(len));
            if (!r.ok())
                return corrupt("truncated page");
            used += kMinPage + len;
            ws.pages.push_back(std::move(p));
        }
        entry.writeSets.push_back(std::move(ws));
    }
    if (version == kEntryVersionMeta) {
        const std::uint32_t metaCount = r.u32();
        used += 4;
        if (!r.ok() || metaCount > left() / kMinMetaOp)
            return corrupt("meta op count does not fit");
        for (std::uint32_t i = 0; i < metaCount; ++i) {
            MetaOp op;
            const std::uint8_t kind = r.u8();
            if (kind != std::uint8_t(MetaOp::Kind::Put) &&
                kind != std::uint8_t(MetaOp::Kind::Erase))
                return corrupt("unknown meta op kind " + std::to_string(kind));
            op.kind = MetaOp::Kind(kind);
            const std::uint8_t hi = r.u8();
            const std::uint8_t lo = r.u8();
            const std::size_t keyLen = std::size_t(hi) << 8 | lo;
            op.key = std::string(r.bytes(keyLen));
            const std::uint32_t valueLen = r.u32();
            op.value = std::string(r.bytes(valueLen));
            if (!r.ok())
                return corrupt("truncated meta op");
            used += kMinMetaOp + keyLen + valueLen;
            entry.metaOps.push_back(std::move(op));
        }
    }
    if (!r.ok())
        return corrupt("truncated");
    if (!r.atEnd())
        return corrupt(std::to_string(left()) + " trailing bytes");
    return entry;
}

} // namespace troupe::storage
