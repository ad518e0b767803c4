// caching_sha2_password's arithmetic and the fast-path cache (daemon/mysql/auth.h). The wire
// exchange with real clients is tested by tests/integration/tst_mysql_tls.cpp.

#include <QTest>

#include "mysql/auth.h"
#include "mysql/messages.h"

using namespace troupe::mysql;

namespace {

std::string hex(const std::string& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

const std::string kNonce = "abcdefghijklmnopqrst"; // 20 bytes

} // namespace

class TestMysqlAuth : public QObject {
    Q_OBJECT

private slots:
    // FIPS 180-2 test vector.
    void sha256KnownAnswer() {
        QCOMPARE(hex(sha256("abc")),
                 std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QCOMPARE(sha256("").size(), std::size_t(32));
    }

    void scrambleMatchesOnlyItsPasswordAndNonce() {
        const std::string stage2 = sha256(sha256("secret"));
        const std::string scramble = cachingSha2Scramble("secret", kNonce);
        QCOMPARE(scramble.size(), std::size_t(32));
        QVERIFY(cachingSha2Matches(stage2, kNonce, scramble));
        QVERIFY(!cachingSha2Matches(stage2, kNonce, cachingSha2Scramble("Secret", kNonce)));
        QVERIFY(!cachingSha2Matches(stage2, "ABCDEFGHIJKLMNOPQRST", scramble)); // replayed
        std::string flipped = scramble;
        flipped[31] = char(flipped[31] ^ 1);
        QVERIFY(!cachingSha2Matches(stage2, kNonce, flipped));
        QVERIFY(!cachingSha2Matches(stage2, kNonce, scramble.substr(0, 31))); // wrong sizes
        QVERIFY(!cachingSha2Matches(stage2.substr(1), kNonce, scramble));
        QVERIFY(!cachingSha2Matches(stage2, kNonce, ""));
        QVERIFY(cachingSha2Scramble("", kNonce).empty()); // no password: no scramble
    }

    void cacheNeedsAFullLoginAndTheSameCredential() {
        Sha2Cache cache;
        const std::string scramble = cachingSha2Scramble("pw1", kNonce);
        QVERIFY(!cache.verify("alice", "tag1", kNonce, scramble)); // never logged in
        cache.remember("alice", "tag1", "pw1");
        QVERIFY(cache.verify("alice", "tag1", kNonce, scramble));
        QVERIFY(!cache.verify("alice", "tag1", kNonce, cachingSha2Scramble("pw2", kNonce)));
        QVERIFY(!cache.verify("bob", "tag1", kNonce, scramble));
        // The password changed (a new salt and hash in the user's record): the entry is stale.
        QVERIFY(!cache.verify("alice", "tag2", kNonce, scramble));
        cache.remember("alice", "tag2", "pw2");
        QVERIFY(cache.verify("alice", "tag2", kNonce, cachingSha2Scramble("pw2", kNonce)));
        QVERIFY(!cache.verify("alice", "tag2", kNonce, scramble));
    }

    // COM_CHANGE_USER as libmariadb sends it, and cut short anywhere.
    void changeUserPackets() {
        const std::uint32_t caps = cap::kProtocol41 | cap::kSecureConnection | cap::kPluginAuth;
        const ChangeUser sent{"app", std::string(20, '\x01'), "type1.x", "mysql_native_password"};
        const std::string body = buildChangeUser(sent, caps);
        auto parsed = parseChangeUser(body, caps);
        QVERIFY2(parsed, parsed.status().toString().c_str());
        QCOMPARE(parsed->user, sent.user);
        QCOMPARE(parsed->authResponse, sent.authResponse);
        QCOMPARE(parsed->database, sent.database);
        QCOMPARE(parsed->authPlugin, sent.authPlugin);
        // An old client: no charset and plugin after the database.
        auto old = parseChangeUser(std::string("bob\0\0db\0", 8), caps);
        QVERIFY(old && old->user == "bob" && old->database == "db" && old->authPlugin.empty());
        for (std::size_t cut : {std::size_t(0), std::size_t(2), std::size_t(5), std::size_t(20)})
            QVERIFY2(!parseChangeUser(body.substr(0, cut), caps), std::to_string(cut).c_str());
    }
};

QTEST_APPLESS_MAIN(TestMysqlAuth)
#include "tst_mysql_auth.moc"
