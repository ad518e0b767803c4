#include "mysql/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace troupe::mysql {

std::string sha256(std::string_view data) {
    std::string out(32, '\0');
    unsigned int size = 0;
    EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &size,
               EVP_sha256(), nullptr);
    out.resize(size);
    return out;
}

namespace {

// a XOR b, both 32 bytes.
std::string xorBytes(std::string_view a, std::string_view b) {
    std::string out(a);
    for (std::size_t i = 0; i < out.size() && i < b.size(); ++i)
        out[i] = char(out[i] ^ b[i]);
    return out;
}

} // namespace

std::string cachingSha2Scramble(std::string_view password, std::string_view nonce) {
    if (password.empty())
        return {};
    const std::string stage1 = sha256(password);
    const std::string stage2 = sha256(stage1);
    return xorBytes(stage1, sha256(stage2 + std::string(nonce)));
}

bool cachingSha2Matches(std::string_view stage2, std::string_view nonce,
                        std::string_view scramble) {
    if (stage2.size() != 32 || scramble.size() != 32)
        return false;
    // scramble XOR SHA256(stage2 + nonce) is the client's SHA256(pw); its hash must be stage 2.
    const std::string stage1 = xorBytes(scramble, sha256(std::string(stage2) + std::string(nonce)));
    const std::string check = sha256(stage1);
    return CRYPTO_memcmp(check.data(), stage2.data(), 32) == 0;
}

bool Sha2Cache::verify(const std::string& user, std::string_view tag, std::string_view nonce,
                       std::string_view scramble) const {
    std::string stage2;
    {
        std::lock_guard lock(m_mutex);
        auto found = m_entries.find(user);
        if (found == m_entries.end() || found->second.tag != tag)
            return false;
        stage2 = found->second.stage2;
    }
    return cachingSha2Matches(stage2, nonce, scramble);
}

void Sha2Cache::remember(const std::string& user, std::string tag, std::string_view password) {
    Entry entry{std::move(tag), sha256(sha256(password))};
    std::lock_guard lock(m_mutex);
    m_entries[user] = std::move(entry);
}

} // namespace troupe::mysql
