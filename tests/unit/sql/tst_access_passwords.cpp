// The two kinds of passwords (sql/access.h): what is stored for a native and for a
// caching_sha2 user (decoded from the stored access record), how each logs in, ALTER USER
// keeping or changing the kind, old (version 1) records still read, and the audit log's
// password redaction.

#include <QTest>

#include "core/bytes.h"
#include "sql/access.h"

using namespace troupe;
using namespace troupe::sql;

namespace {

constexpr const char* kLocal = "node1@127.0.0.1";

constexpr const char* kInit =
    "INSERT INTO groups VALUES ('grp1','cluster');\n"
    "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');\n"
    "CREATE USER 'root' IDENTIFIED BY 'rootpass';\n"
    "CREATE USER 'sha' IDENTIFIED WITH caching_sha2_password BY 'sh@pw';\n";

// The config after kInit, as stored and read back; made once (each caching_sha2 password costs
// kPbkdf2Iterations rounds).
const AccessConfig& stored() {
    static const AccessConfig config = [] {
        auto r = applyConfigScript(AccessConfig(), kInit, kLocal);
        if (!r)
            qFatal("init: %s", r.status().toString().c_str());
        auto decoded = decodeAccessConfig(encodeAccessConfig(r->config));
        if (!decoded)
            qFatal("decode: %s", decoded.status().toString().c_str());
        return *decoded;
    }();
    return config;
}

void putString(std::string& out, std::string_view s) {
    putBigEndian32(out, std::uint32_t(s.size()));
    out.append(s);
}

} // namespace

class TestAccessPasswords : public QObject {
    Q_OBJECT

private slots:
    void storedForANativeUser() {
        const AccessConfig& config = stored();
        const UserRecord* root = config.findUser("root");
        QVERIFY(root);
        QCOMPARE(root->kind, PasswordKind::Native);
        QCOMPARE(root->nativeHash, sha1(sha1("rootpass")));
        QCOMPARE(root->salt.size(), std::size_t(16));
        QCOMPARE(root->sha256Hash, sha256(root->salt + "rootpass"));
        QCOMPARE(root->iterations, 0u);
        QVERIFY(verifyPassword(*root, "rootpass"));
        const std::string salt(20, 's');
        QVERIFY(verifyNativeScramble(*root, salt, nativeScramble("rootpass", salt)));
    }

    void storedForACachingSha2UserHasNothingFromSha1() {
        const AccessConfig& config = stored();
        const UserRecord* sha = config.findUser("sha");
        QVERIFY(sha);
        QCOMPARE(sha->kind, PasswordKind::CachingSha2);
        QVERIFY(sha->nativeHash.empty());
        QCOMPARE(sha->iterations, kPbkdf2Iterations);
        QCOMPARE(sha->salt.size(), std::size_t(16));
        QCOMPARE(sha->sha256Hash.size(), std::size_t(32));
        // Not a plain or salted digest of the password: an iterated one.
        QVERIFY(sha->sha256Hash != sha256(sha->salt + "sh@pw"));
        QVERIFY(sha->sha256Hash != sha256("sh@pw"));
        // Nothing SHA-1-derived anywhere in the stored record.
        const std::string bytes = encodeAccessConfig(config);
        for (const std::string& derived : {sha1("sh@pw"), sha1(sha1("sh@pw"))})
            QVERIFY(bytes.find(derived) == std::string::npos);
        QVERIFY(bytes.find("sh@pw") == std::string::npos);
        QVERIFY(verifyPassword(*sha, "sh@pw"));
        QVERIFY(!verifyPassword(*sha, "wrong"));
        // mysql_native_password can never check it.
        const std::string salt(20, 's');
        QVERIFY(!verifyNativeScramble(*sha, salt, nativeScramble("sh@pw", salt)));
    }

    void alterUserKeepsOrChangesTheKind_data() {
        QTest::addColumn<QString>("statement");
        QTest::addColumn<int>("kind");
        QTest::newRow("ALTER keeps") << "ALTER USER 'sha' IDENTIFIED BY 'n3w'" << 1;
        QTest::newRow("SET PASSWORD keeps") << "SET PASSWORD FOR sha = 'n3w'" << 1;
        QTest::newRow("ALTER WITH native")
            << "ALTER USER 'sha'@'%' IDENTIFIED WITH mysql_native_password BY 'n3w'" << 0;
        QTest::newRow("ALTER WITH quoted plugin")
            << "ALTER USER sha IDENTIFIED WITH 'caching_sha2_password' BY 'n3w'" << 1;
    }
    void alterUserKeepsOrChangesTheKind() {
        QFETCH(QString, statement);
        QFETCH(int, kind);
        auto r = applyConfigScript(stored(), statement.toStdString(), kLocal);
        QVERIFY2(r, r.status().toString().c_str());
        const UserRecord* sha = r->config.findUser("sha");
        QCOMPARE(int(sha->kind), kind);
        QVERIFY(verifyPassword(*sha, "n3w"));
        QCOMPARE(sha->nativeHash.empty(), kind == 1);
        // and root can be switched to caching_sha2 too
        auto root = applyConfigScript(
            r->config, "ALTER USER root IDENTIFIED WITH caching_sha2_password BY 'x'", kLocal);
        QVERIFY2(root, root.status().toString().c_str());
        QCOMPARE(root->config.findUser("root")->kind, PasswordKind::CachingSha2);
    }

    void unknownPluginIsAnError() {
        auto r = applyConfigScript(
            stored(), "CREATE USER u IDENTIFIED WITH sha256_password BY 'secret'", kLocal);
        QCOMPARE(r.status().code(), ErrorCode::InvalidArgument);
        QVERIFY2(r.status().message().find("caching_sha2_password") != std::string::npos,
                 r.status().message().c_str());
        QVERIFY(r.status().message().find("secret") == std::string::npos);
    }

    // A record written before the kinds existed (version 1): every user native.
    void readsVersion1Records() {
        const UserRecord root = *makeUser("root", "rootpass");
        std::string v1 = "TCFG";
        v1 += char(1); // version
        v1 += char(1); // initialized
        putBigEndian32(v1, 1);
        putString(v1, "grp1");
        putString(v1, "cluster");
        putBigEndian32(v1, 1);
        putString(v1, "node1@127.0.0.1");
        putString(v1, "grp1");
        putBigEndian32(v1, 1);
        putString(v1, root.name);
        putString(v1, root.nativeHash);
        putString(v1, root.salt);
        putString(v1, root.sha256Hash);
        putBigEndian32(v1, 1);
        putString(v1, "*");
        v1 += char(3);
        auto decoded = decodeAccessConfig(v1);
        QVERIFY2(decoded, decoded.status().toString().c_str());
        const UserRecord* read = decoded->findUser("root");
        QCOMPARE(read->kind, PasswordKind::Native);
        QVERIFY(verifyPassword(*read, "rootpass"));
        QVERIFY(decoded->isAdmin("root"));
        // written back as version 2
        QCOMPARE(int(encodeAccessConfig(*decoded)[4]), 2);
    }

    void decodeRefusesBadKinds_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<std::uint32_t>("iterations");
        QTest::newRow("unknown kind") << 7 << 100000u;
        QTest::newRow("too few iterations") << 1 << 10u;
    }
    void decodeRefusesBadKinds() {
        QFETCH(int, kind);
        QFETCH(std::uint32_t, iterations);
        std::string bytes = encodeAccessConfig(stored());
        // The sha user's kind byte follows its name; its iterations follow the kind.
        std::string name;
        putString(name, "sha");
        const std::size_t at = bytes.find(name) + name.size();
        QCOMPARE(int(bytes[at]), 1);
        bytes[at] = char(kind);
        std::string count;
        putBigEndian32(count, iterations);
        bytes.replace(at + 1, 4, count);
        auto decoded = decodeAccessConfig(bytes);
        QCOMPARE(decoded.status().code(), ErrorCode::Corruption);
    }

    void redactPasswords_data() {
        QTest::addColumn<QString>("script");
        QTest::addColumn<QString>("redacted");
        QTest::newRow("create") << "CREATE USER 'a' IDENTIFIED BY 'pw1'"
                                << "CREATE USER 'a' IDENTIFIED BY '***'";
        QTest::newRow("create with plugin")
            << "create user a@'%' identified with caching_sha2_password by \"pw2\""
            << "create user a@'%' identified with caching_sha2_password by '***'";
        QTest::newRow("alter") << "ALTER USER `a` IDENTIFIED BY 'p''w3'"
                               << "ALTER USER `a` IDENTIFIED BY '***'";
        QTest::newRow("set password") << "SET PASSWORD FOR 'a' = 'pw4'"
                                      << "SET PASSWORD FOR 'a' = '***'";
        QTest::newRow("set password()") << "SET PASSWORD FOR a = PASSWORD('pw5')"
                                        << "SET PASSWORD FOR a = PASSWORD('***')";
        QTest::newRow("a misspelt statement") << "CREATE USERS 'a' IDENTIFIED BY 'pw6'"
                                              << "CREATE USERS 'a' IDENTIFIED BY '***'";
        QTest::newRow("several, comments dropped")
            << "GRANT read ON t TO 'a' -- 'pw7'\nCREATE USER b IDENTIFIED BY 'pw8';"
            << "GRANT read ON t TO 'a'; CREATE USER b IDENTIFIED BY '***'";
        QTest::newRow("other SQL unchanged") << "INSERT INTO nodes VALUES ('n@h','grp1')"
                                             << "INSERT INTO nodes VALUES ('n@h','grp1')";
        QTest::newRow("unterminated") << "CREATE USER a IDENTIFIED BY 'pw9"
                                      << "<unparsable script, 32 bytes>";
    }
    void redactPasswords() {
        QFETCH(QString, script);
        QFETCH(QString, redacted);
        QCOMPARE(QString::fromStdString(sql::redactPasswords(script.toStdString())), redacted);
    }
};

QTEST_APPLESS_MAIN(TestAccessPasswords)
#include "tst_access_passwords.moc"
