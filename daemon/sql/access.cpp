#include "sql/access.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <memory>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "sql/access_internal.h"
#include "sql/sql_text.h"

// AccessConfig, its checks and the password functions. Config scripts are in access_script.cpp
// and access_scratch.cpp, the binary format in access_format.cpp.

namespace troupe::sql {
namespace access_detail {

bool hasAdminGrant(const UserRecord& user) {
    return std::any_of(user.grants.begin(), user.grants.end(),
                       [](const Grant& g) { return g.actorType == kStar && g.read && g.write; });
}

Status invalid(std::string message) {
    return Status(ErrorCode::InvalidArgument, std::move(message));
}

namespace {

bool validNodeName(std::string_view name) {
    std::size_t at = name.find('@');
    if (at == 0 || at == std::string_view::npos || at + 1 == name.size() ||
        name.find('@', at + 1) != std::string_view::npos)
        return false;
    return std::none_of(name.begin(), name.end(), [](char c) {
        return isSpace(c) || std::iscntrl(static_cast<unsigned char>(c)) || isQuote(c);
    });
}

} // namespace

Status validateGroupsAndNodes(const std::vector<GroupRecord>& groups,
                              const std::vector<NodeRecord>& nodes) {
    for (std::size_t i = 0; i < groups.size(); ++i) {
        if (groups[i].name.empty() || groups[i].type.empty())
            return invalid("a group needs a name and a type");
        if (i > 0 && groups[i].name == groups[i - 1].name)
            return invalid("group '" + groups[i].name + "' is listed twice");
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const NodeRecord& n = nodes[i];
        if (!validNodeName(n.name))
            return invalid("node name '" + n.name + "' does not look like name@host");
        if (i > 0 && n.name == nodes[i - 1].name)
            return invalid("node '" + n.name + "' is listed twice");
        if (std::none_of(groups.begin(), groups.end(),
                         [&](const GroupRecord& g) { return g.name == n.group; }))
            return invalid("node '" + n.name + "' is in group '" + n.group +
                           "', which does not exist");
    }
    return Status::ok();
}

} // namespace access_detail

using access_detail::hasAdminGrant;
using access_detail::invalid;
using access_detail::kStar;
using access_detail::validateGroupsAndNodes;

namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kSha1Bytes = 20;
constexpr std::size_t kSha256Bytes = 32;

// ---- digests --------------------------------------------------------------------------------

// Digest of the concatenated parts; empty if OpenSSL fails (every comparison then fails).
std::string digest(const EVP_MD* md, std::initializer_list<std::string_view> parts) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
        return {};
    for (std::string_view part : parts) {
        if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1)
            return {};
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(ctx.get(), out.data(), &size) != 1)
        return {};
    return std::string(reinterpret_cast<const char*>(out.data()), size);
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string xorBytes(std::string_view a, std::string_view b) {
    std::string out(a);
    for (std::size_t i = 0; i < out.size() && i < b.size(); ++i)
        out[i] = static_cast<char>(out[i] ^ b[i]);
    return out;
}

// Users sorted by name, grants by type.
Status validateUsers(const std::vector<UserRecord>& users) {
    for (std::size_t i = 0; i < users.size(); ++i) {
        const UserRecord& u = users[i];
        if (u.name.empty())
            return invalid("a user needs a name");
        if (i > 0 && u.name == users[i - 1].name)
            return invalid("user '" + u.name + "' is listed twice");
        const bool native = u.kind == PasswordKind::Native;
        const bool hashesOk = native
                                  ? u.nativeHash.size() == kSha1Bytes && u.iterations == 0
                                  : u.kind == PasswordKind::CachingSha2 && u.nativeHash.empty() &&
                                        u.iterations >= kMinPbkdf2Iterations;
        if (!hashesOk || u.salt.size() != kSaltBytes || u.sha256Hash.size() != kSha256Bytes)
            return invalid("user '" + u.name + "' has malformed password hashes");
        for (std::size_t j = 0; j < u.grants.size(); ++j) {
            const Grant& g = u.grants[j];
            if (g.actorType.empty() || (!g.read && !g.write))
                return invalid("user '" + u.name + "' has an empty grant");
            if (j > 0 && g.actorType == u.grants[j - 1].actorType)
                return invalid("user '" + u.name + "' has two grants on '" + g.actorType + "'");
        }
    }
    return Status::ok();
}

template <typename T> void sortByName(std::vector<T>& items) {
    std::sort(items.begin(), items.end(), [](const T& a, const T& b) { return a.name < b.name; });
}

} // namespace

// ---- AccessConfig ---------------------------------------------------------------------------

Result<AccessConfig> AccessConfig::create(bool initialized, std::vector<GroupRecord> groups,
                                          std::vector<NodeRecord> nodes,
                                          std::vector<UserRecord> users) {
    sortByName(groups);
    sortByName(nodes);
    sortByName(users);
    for (UserRecord& u : users)
        std::sort(u.grants.begin(), u.grants.end(),
                  [](const Grant& a, const Grant& b) { return a.actorType < b.actorType; });
    TROUPE_RETURN_IF_ERROR(validateGroupsAndNodes(groups, nodes));
    TROUPE_RETURN_IF_ERROR(validateUsers(users));
    AccessConfig config;
    config.m_initialized = initialized;
    config.m_groups = std::move(groups);
    config.m_nodes = std::move(nodes);
    config.m_users = std::move(users);
    return config;
}

const UserRecord* AccessConfig::findUser(std::string_view name) const {
    auto it = std::find_if(m_users.begin(), m_users.end(),
                           [&](const UserRecord& u) { return u.name == name; });
    return it == m_users.end() ? nullptr : &*it;
}

const NodeRecord* AccessConfig::findNode(std::string_view name) const {
    auto it = std::find_if(m_nodes.begin(), m_nodes.end(),
                           [&](const NodeRecord& n) { return n.name == name; });
    return it == m_nodes.end() ? nullptr : &*it;
}

bool AccessConfig::isAdmin(std::string_view user) const {
    const UserRecord* u = findUser(user);
    return u && hasAdminGrant(*u);
}

Status AccessConfig::checkActorAccess(std::string_view user, std::string_view type,
                                      bool write) const {
    if (!m_initialized)
        return Status(ErrorCode::NotInitialized, "the node has no config yet");
    const std::string denied = "user '" + std::string(user) + "' may not " +
                               (write ? "write" : "read") + " actors of type '" +
                               std::string(type) + "'";
    const UserRecord* u = findUser(user);
    if (!u)
        return Status(ErrorCode::NotPermitted, denied + " (no such user)");
    for (const Grant& g : u->grants) {
        if ((g.actorType == kStar || g.actorType == type) && (write ? g.write : g.read))
            return Status::ok();
    }
    return Status(ErrorCode::NotPermitted, denied);
}

Status AccessConfig::checkAdmin(std::string_view user) const {
    if (!m_initialized)
        return Status(ErrorCode::NotInitialized, "the node has no config yet");
    if (isAdmin(user))
        return Status::ok();
    return Status(ErrorCode::NotPermitted, "user '" + std::string(user) +
                                               "' is not an administrator (needs read,write on *)");
}

// ---- passwords ------------------------------------------------------------------------------

std::string sha1(std::string_view data) {
    return digest(EVP_sha1(), {data});
}

std::string sha256(std::string_view data) {
    return digest(EVP_sha256(), {data});
}

namespace {

std::string pbkdf2(std::string_view password, std::string_view salt, std::uint32_t iterations) {
    std::string out(kSha256Bytes, '\0');
    if (iterations > std::uint32_t(std::numeric_limits<int>::max()) ||
        PKCS5_PBKDF2_HMAC(password.data(), int(password.size()),
                          reinterpret_cast<const unsigned char*>(salt.data()), int(salt.size()),
                          int(iterations), EVP_sha256(), int(out.size()),
                          reinterpret_cast<unsigned char*>(out.data())) != 1)
        return {};
    return out;
}

} // namespace

std::string_view pluginName(PasswordKind kind) {
    return kind == PasswordKind::CachingSha2 ? "caching_sha2_password" : "mysql_native_password";
}

Result<UserRecord> makeUser(std::string_view name, std::string_view password, PasswordKind kind) {
    if (name.empty())
        return Status(ErrorCode::InvalidArgument, "a user needs a name");
    if (password.empty())
        return Status(ErrorCode::InvalidArgument, "the password must not be empty");
    UserRecord user;
    user.name = std::string(name);
    user.salt.resize(kSaltBytes);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(user.salt.data()), int(kSaltBytes)) != 1)
        return Status(ErrorCode::Internal, "no random bytes for a password salt");
    user.kind = kind;
    if (kind == PasswordKind::CachingSha2) {
        user.iterations = kPbkdf2Iterations;
        user.sha256Hash = pbkdf2(password, user.salt, user.iterations);
    } else {
        user.nativeHash = sha1(sha1(password));
        user.sha256Hash = digest(EVP_sha256(), {user.salt, password});
    }
    if (user.sha256Hash.size() != kSha256Bytes ||
        (kind == PasswordKind::Native && user.nativeHash.size() != kSha1Bytes))
        return Status(ErrorCode::Internal, "password hashing failed");
    return user;
}

bool verifyPassword(const UserRecord& user, std::string_view password) {
    const std::string computed = user.kind == PasswordKind::CachingSha2
                                     ? pbkdf2(password, user.salt, user.iterations)
                                     : digest(EVP_sha256(), {user.salt, password});
    return constantTimeEquals(computed, user.sha256Hash);
}

bool verifyNativeScramble(const UserRecord& user, std::string_view salt20,
                          std::string_view scramble20) {
    if (user.kind != PasswordKind::Native || salt20.size() != kSha1Bytes ||
        scramble20.size() != kSha1Bytes || user.nativeHash.size() != kSha1Bytes)
        return false;
    // scramble XOR SHA1(salt + SHA1(SHA1(pw))) = SHA1(pw), whose SHA1 must be the stored hash.
    std::string stage1 = xorBytes(scramble20, digest(EVP_sha1(), {salt20, user.nativeHash}));
    return constantTimeEquals(sha1(stage1), user.nativeHash);
}

std::string nativeScramble(std::string_view password, std::string_view salt20) {
    std::string stage1 = sha1(password);
    return xorBytes(stage1, digest(EVP_sha1(), {salt20, sha1(stage1)}));
}

} // namespace troupe::sql
