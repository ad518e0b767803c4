// The binary format of AccessConfig (documented in access.h).

#include "sql/access.h"

#include "core/bytes.h"

namespace troupe::sql {

namespace {

constexpr std::string_view kMagic = "TCFG";
constexpr std::uint8_t kVersion = 2;    // written
constexpr std::uint8_t kOldVersion = 1; // read: users without a kind byte, all native

void putString(std::string& out, std::string_view s) {
    putBigEndian32(out, std::uint32_t(s.size()));
    out.append(s);
}

std::string getString(ByteReader& r) {
    std::uint32_t size = r.u32();
    return std::string(r.bytes(size));
}

Status corrupt(const std::string& what) {
    return Status(ErrorCode::Corruption, "access config: " + what);
}

} // namespace

std::string encodeAccessConfig(const AccessConfig& config) {
    std::string out(kMagic);
    out.push_back(char(kVersion));
    out.push_back(char(config.initialized() ? 1 : 0));
    putBigEndian32(out, std::uint32_t(config.groups().size()));
    for (const GroupRecord& g : config.groups()) {
        putString(out, g.name);
        putString(out, g.type);
    }
    putBigEndian32(out, std::uint32_t(config.nodes().size()));
    for (const NodeRecord& n : config.nodes()) {
        putString(out, n.name);
        putString(out, n.group);
    }
    putBigEndian32(out, std::uint32_t(config.users().size()));
    for (const UserRecord& u : config.users()) {
        putString(out, u.name);
        out.push_back(char(u.kind));
        if (u.kind == PasswordKind::CachingSha2)
            putBigEndian32(out, u.iterations);
        else
            putString(out, u.nativeHash);
        putString(out, u.salt);
        putString(out, u.sha256Hash);
        putBigEndian32(out, std::uint32_t(u.grants.size()));
        for (const Grant& g : u.grants) {
            putString(out, g.actorType);
            out.push_back(char((g.read ? 1 : 0) | (g.write ? 2 : 0)));
        }
    }
    return out;
}

Result<AccessConfig> decodeAccessConfig(std::string_view bytes) {
    ByteReader r(bytes);
    if (r.bytes(kMagic.size()) != kMagic)
        return corrupt("bad magic");
    const std::uint8_t version = r.u8();
    if (version != kVersion && version != kOldVersion)
        return corrupt("unknown version " + std::to_string(version));
    const std::uint8_t flags = r.u8();
    if (flags > 1)
        return corrupt("unknown flags");
    std::vector<GroupRecord> groups;
    for (std::uint32_t n = r.u32(); r.ok() && n > 0; --n) {
        GroupRecord& g = groups.emplace_back();
        g.name = getString(r);
        g.type = getString(r);
    }
    std::vector<NodeRecord> nodes;
    for (std::uint32_t n = r.u32(); r.ok() && n > 0; --n) {
        NodeRecord& node = nodes.emplace_back();
        node.name = getString(r);
        node.group = getString(r);
    }
    std::vector<UserRecord> users;
    for (std::uint32_t n = r.u32(); r.ok() && n > 0; --n) {
        UserRecord& u = users.emplace_back();
        u.name = getString(r);
        const std::uint8_t kind = version == kOldVersion ? 0 : r.u8();
        if (kind > std::uint8_t(PasswordKind::CachingSha2))
            return corrupt("unknown password kind of user '" + u.name + "'");
        u.kind = PasswordKind(kind);
        if (u.kind == PasswordKind::CachingSha2)
            u.iterations = r.u32();
        else
            u.nativeHash = getString(r);
        u.salt = getString(r);
        u.sha256Hash = getString(r);
        for (std::uint32_t k = r.u32(); r.ok() && k > 0; --k) {
            Grant& g = u.grants.emplace_back();
            g.actorType = getString(r);
            const std::uint8_t rights = r.u8();
            if (rights == 0 || rights > 3)
                return corrupt("bad rights in a grant of user '" + u.name + "'");
            g.read = (rights & 1) != 0;
            g.write = (rights & 2) != 0;
        }
    }
    if (!r.ok())
        return corrupt("truncated");
    if (!r.atEnd())
        return corrupt("trailing bytes");
    Result<AccessConfig> config =
        AccessConfig::create(flags == 1, std::move(groups), std::move(nodes), std::move(users));
    if (!config)
        return corrupt(config.status().message());
    return config;
}

} // namespace troupe::sql
