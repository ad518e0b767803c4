#pragma once

// caching_sha2_password, the server side (MySQL 8's default authentication plugin).
//
// The client answers the 20-byte nonce with
//     scramble = SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce)
// which the server can check only if it knows SHA256(SHA256(pw)) ("stage 2"). TroupeDB stores
// passwords salted (access.h), so stage 2 is known only after the user once logged in with the
// password itself: "full authentication", the password sent in clear inside TLS and checked
// against the salted SHA-256. Its stage 2 is then kept in memory (Sha2Cache) and later logins of
// that user, over TLS or not, take the fast path. The cache forgets a user whose password
// changed: each entry carries the user's stored credential (salt + salted hash) and counts only
// while that is unchanged.
//
// Threads: the functions are pure; Sha2Cache is safe to share between connection threads.

#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace troupe::mysql {

// SHA-256 of `data`, 32 raw bytes.
std::string sha256(std::string_view data);

// What a client sends for `password` and `nonce` (tests; the server never knows the password
// in advance).
std::string cachingSha2Scramble(std::string_view password, std::string_view nonce);

// True if `scramble` answers `nonce` for the password whose SHA256(SHA256(pw)) is `stage2`.
// Constant-time in the compared bytes.
bool cachingSha2Matches(std::string_view stage2, std::string_view nonce, std::string_view scramble);

class Sha2Cache {
public:
    // The fast path: true if `user` logged in before with the credential `tag` still current
    // and `scramble` answers `nonce` for that password.
    bool verify(const std::string& user, std::string_view tag, std::string_view nonce,
                std::string_view scramble) const;
    // After a successful full authentication.
    void remember(const std::string& user, std::string tag, std::string_view password);

private:
    struct Entry {
        std::string tag;
        std::string stage2;
    };
    mutable std::mutex m_mutex;
    std::map<std::string, Entry, std::less<>> m_entries;
};

} // namespace troupe::mysql
