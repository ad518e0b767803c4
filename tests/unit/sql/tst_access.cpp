// The config pseudo-database (sql/access.h): the init script and each of its errors, user and
// grant statements in all their forms, permission checks, SQL on the config tables, rejected SQL,
// password hashing and mysql_native_password scrambles, and the binary format. Configs are
// rendered as compact strings so that most cases are one table row:
//   users:  "app:type1=rw root:*=rw"        nodes: "node1@127.0.0.1/grp1"
//   results: "col1,col2 | v1,v2; v3,v4"

#include <QTest>

#include "sql/access.h"

using namespace troupe;
using namespace troupe::sql;

namespace {

constexpr const char* kLocal = "node1@127.0.0.1";

constexpr const char* kInit = "INSERT INTO groups VALUES ('grp1','cluster');\n"
                              "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');\n"
                              "CREATE USER 'root' IDENTIFIED BY 'rootpass';\n"
                              "CREATE USER 'app' IDENTIFIED BY 'secret';\n"
                              "GRANT read,write ON type1 TO 'app';\n";

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i)
        out += (i ? sep : "") + parts[i];
    return out;
}

std::string renderUsers(const AccessConfig& config) {
    std::vector<std::string> users;
    for (const UserRecord& u : config.users()) {
        std::vector<std::string> grants;
        for (const Grant& g : u.grants)
            grants.push_back(g.actorType + "=" + (g.read ? "r" : "") + (g.write ? "w" : ""));
        users.push_back(u.name + ":" + join(grants, ","));
    }
    return join(users, " ");
}

std::string renderNodes(const AccessConfig& config) {
    std::vector<std::string> parts;
    for (const GroupRecord& g : config.groups())
        parts.push_back("[" + g.name + "/" + g.type + "]");
    for (const NodeRecord& n : config.nodes())
        parts.push_back(n.name + "/" + n.group);
    return join(parts, " ");
}

std::string renderValue(const Value& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v))
        return std::to_string(*i);
    if (const auto* s = std::get_if<std::string>(&v))
        return *s;
    if (std::holds_alternative<std::monostate>(v))
        return "NULL";
    return "?";
}

std::string renderResult(const ExecResult& result) {
    std::vector<std::string> rows;
    for (const auto& row : result.rows) {
        std::vector<std::string> values;
        for (const Value& v : row)
            values.push_back(renderValue(v));
        rows.push_back(join(values, ","));
    }
    return join(result.columns, ",") + " | " + join(rows, "; ");
}

// The config after the example init script; fails the calling test when the init fails.
AccessConfig initConfig() {
    auto r = applyConfigScript(AccessConfig(), kInit, kLocal);
    if (!r) {
        QTest::qFail(r.status().toString().c_str(), __FILE__, __LINE__);
        return {};
    }
    return r->config;
}

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

} // namespace

class TestAccess : public QObject {
    Q_OBJECT

private slots:
    void initExample();
    void initSyntax_data();
    void initSyntax();
    void initErrors_data();
    void initErrors();
    void initDefaultRights_data();
    void initDefaultRights();
    void nothingChangesOnError();
    void userStatements_data();
    void userStatements();
    void passwordChanges_data();
    void passwordChanges();
    void passwordsNeverEchoed();
    void actorAccess_data();
    void actorAccess();
    void adminChecks();
    void uninitialized();
    void select_data();
    void select();
    void nodeChanges_data();
    void nodeChanges();
    void rejected_data();
    void rejected();
    void unchangedScript();
    void digests();
    void verifyPlainPassword();
    void nativeScrambleChecks();
    void saltPerUser();
    void encodeRoundTrip();
    void decodeTruncatedAtEveryLength();
    void decodeCorrupt_data();
    void decodeCorrupt();
    void decodeFlippedBytesNeverCrash();
};

void TestAccess::initExample() {
    auto r = applyConfigScript(AccessConfig(), kInit, kLocal);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    const AccessConfig& c = r->config;
    QVERIFY(c.initialized());
    QVERIFY(r->changed);
    QVERIFY(r->result.wrote);
    QCOMPARE(r->result.rowsChanged, std::int64_t(5));
    QCOMPARE(qs(renderNodes(c)), QString("[grp1/cluster] node1@127.0.0.1/grp1"));
    QCOMPARE(qs(renderUsers(c)), QString("app:type1=rw root:*=rw"));
    QVERIFY(c.isAdmin("root"));
    QVERIFY(!c.isAdmin("app"));
    QVERIFY(verifyPassword(*c.findUser("root"), "rootpass"));
    QVERIFY(verifyPassword(*c.findUser("app"), "secret"));
    QVERIFY(!verifyPassword(*c.findUser("app"), "rootpass"));
    QVERIFY(c.findNode(kLocal) != nullptr);
    QVERIFY(c.findUser("nobody") == nullptr);
}

void TestAccess::initSyntax_data() {
    QTest::addColumn<QString>("script");
    auto row = [](const char* name, const char* script) {
        QTest::newRow(name) << QString::fromUtf8(script);
    };
    row("one per line, no semicolons", "INSERT INTO groups VALUES ('grp1','cluster')\n"
                                       "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\n"
                                       "CREATE USER 'root' IDENTIFIED BY 'rootpass'\n");
    row("one line", "INSERT INTO groups VALUES ('grp1','cluster'); INSERT INTO nodes VALUES "
                    "('node1@127.0.0.1','grp1'); CREATE USER 'root' IDENTIFIED BY 'rootpass'");
    row("crlf", "INSERT INTO groups VALUES ('grp1','cluster')\r\n"
                "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\r\n"
                "CREATE USER 'root' IDENTIFIED BY 'rootpass'\r\n");
    row("use config and commit", "USE config\n"
                                 "INSERT INTO groups VALUES ('grp1','cluster')\n"
                                 "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\n"
                                 "CREATE USER 'root' IDENTIFIED BY 'rootpass'\n"
                                 "COMMIT\n");
    row("comments", "-- groups first\n"
                    "INSERT INTO groups VALUES ('grp1','cluster'); -- the only group\n"
                    "/* nodes */ INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\n"
                    "CREATE USER 'root' /* admin */ IDENTIFIED BY 'rootpass' -- pw\n");
    row("statements over lines", "INSERT INTO groups\n  VALUES ('grp1',\n 'cluster');\n"
                                 "INSERT INTO nodes (name, group_name) SELECT\n"
                                 "  'node1@127.0.0.1', name\n FROM groups;\n"
                                 "CREATE USER\n 'root'\n IDENTIFIED BY 'rootpass'\n");
    row("column list and lower case", "insert into groups (name,type) values ('grp1','cluster')\n"
                                      "insert into nodes values ('node1@127.0.0.1','grp1')\n"
                                      "create user root identified by 'rootpass'\n");
    row("default group type", "INSERT INTO groups (name) VALUES ('grp1')\n"
                              "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\n"
                              "CREATE USER \"root\"@'%' IDENTIFIED BY \"rootpass\"\n");
    row("blank statements", ";;\n\nINSERT INTO groups VALUES ('grp1','cluster');;\n"
                            "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');\n;\n"
                            "CREATE USER 'root' IDENTIFIED BY 'rootpass';;");
    row("quoted semicolon and newline", "INSERT INTO groups VALUES ('grp1','cluster')\n"
                                        "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\n"
                                        "CREATE USER 'root' IDENTIFIED BY 'rootpass'\n"
                                        "SELECT 'a;b\nSELECT' FROM groups\n");
}

void TestAccess::initSyntax() {
    QFETCH(QString, script);
    auto r = applyConfigScript(AccessConfig(), script.toStdString(), kLocal);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    QCOMPARE(qs(renderNodes(r->config)), QString("[grp1/cluster] node1@127.0.0.1/grp1"));
    QCOMPARE(qs(renderUsers(r->config)), QString("root:*=rw"));
    QVERIFY(verifyPassword(*r->config.findUser("root"), "rootpass"));
}

void TestAccess::initErrors_data() {
    QTest::addColumn<QString>("script");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    const int invalid = int(ErrorCode::InvalidArgument);
    const char* group = "INSERT INTO groups VALUES ('grp1','cluster')\n";
    const char* node = "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\n";
    const char* root = "CREATE USER 'root' IDENTIFIED BY 'rootpass'\n";
    auto row = [](const char* name, const std::string& script, int code, const char* message) {
        QTest::newRow(name) << qs(script) << code << QString::fromUtf8(message);
    };
    row("empty", "", invalid, "MissingGroupInsert: the init script inserts no group");
    row("only comments", "-- nothing\nCOMMIT", invalid, "MissingGroupInsert: ");
    row("user only", root, invalid, "MissingGroupInsert: ");
    row("no node", std::string(group) + root, invalid,
        "MissingNodesInsert: the init script inserts no node");
    row("no user", std::string(group) + node, invalid,
        "MissingRootUser: the init script inserts no user with read,write on *");
    row("only limited users", std::string(group) + node + root + "GRANT read ON t TO 'root'",
        invalid, "MissingRootUser: ");
    row("root revoked", std::string(group) + node + root + "REVOKE write ON * FROM root", invalid,
        "MissingRootUser: ");
    row("other node",
        std::string(group) + "INSERT INTO nodes VALUES ('node2@127.0.0.1','grp1')\n" +
            "INSERT INTO nodes VALUES ('node3@127.0.0.1','grp1')\n" + root,
        invalid,
        "LocalNodeMissing: this node is node1@127.0.0.1 but the script inserts only "
        "node2@127.0.0.1, node3@127.0.0.1");
    row("node in missing group",
        std::string(group) +
            "INSERT INTO nodes VALUES "
            "('node1@127.0.0.1','nope')\n" +
            root,
        invalid, "node 'node1@127.0.0.1' is in group 'nope', which does not exist");
    row("node name without host", std::string(group) + "INSERT INTO nodes VALUES ('node1','grp1')",
        invalid, "node name 'node1' does not look like name@host");
    row("node name empty host", std::string(group) + "INSERT INTO nodes VALUES ('n@','grp1')",
        invalid, "node name 'n@' does not look like name@host");
    row("node name two ats", std::string(group) + "INSERT INTO nodes VALUES ('a@b@c','grp1')",
        invalid, "node name 'a@b@c' does not look like name@host");
    row("duplicate group", std::string(group) + group, int(ErrorCode::SqlError),
        "UNIQUE constraint failed: groups.name");
    row("unterminated quote", std::string(group) + "CREATE USER 'root IDENTIFIED BY x",
        int(ErrorCode::SqlError), "unterminated ' quote");
}

void TestAccess::initErrors() {
    QFETCH(QString, script);
    QFETCH(int, code);
    QFETCH(QString, message);
    auto r = applyConfigScript(AccessConfig(), script.toStdString(), kLocal);
    QVERIFY(!r.isOk());
    QCOMPARE(int(r.status().code()), code);
    QVERIFY2(qs(r.status().message()).contains(message), r.status().message().c_str());
}

void TestAccess::initDefaultRights_data() {
    QTest::addColumn<QString>("users");
    QTest::addColumn<QString>("expected");
    QTest::newRow("every created user") << "CREATE USER a IDENTIFIED BY 'p'\n"
                                           "CREATE USER b IDENTIFIED BY 'p'"
                                        << "a:*=rw b:*=rw";
    QTest::newRow("explicit grant wins") << "CREATE USER a IDENTIFIED BY 'p'\n"
                                            "CREATE USER b IDENTIFIED BY 'p'\n"
                                            "GRANT read ON t TO b\nGRANT write ON u TO b"
                                         << "a:*=rw b:t=r,u=w";
    QTest::newRow("explicit revoke counts") << "CREATE USER a IDENTIFIED BY 'p'\n"
                                               "CREATE USER b IDENTIFIED BY 'p'\n"
                                               "REVOKE read ON t FROM b"
                                            << "a:*=rw b:";
    QTest::newRow("explicit star grant") << "CREATE USER a IDENTIFIED BY 'p'\n"
                                            "GRANT read ON * TO a\n"
                                            "CREATE USER b IDENTIFIED BY 'p'"
                                         << "a:*=r b:*=rw";
    QTest::newRow("dropped user") << "CREATE USER a IDENTIFIED BY 'p'\n"
                                     "CREATE USER b IDENTIFIED BY 'p'\nDROP USER b"
                                  << "a:*=rw";
}

void TestAccess::initDefaultRights() {
    QFETCH(QString, users);
    QFETCH(QString, expected);
    std::string script = "INSERT INTO groups VALUES ('g','cluster')\n"
                         "INSERT INTO nodes VALUES ('node1@127.0.0.1','g')\n" +
                         users.toStdString();
    auto r = applyConfigScript(AccessConfig(), script, kLocal);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    QCOMPARE(qs(renderUsers(r->config)), expected);
}

void TestAccess::nothingChangesOnError() {
    const AccessConfig current = initConfig();
    const AccessConfig copy = current;
    const std::string good = "CREATE USER 'x' IDENTIFIED BY 'p'\n"
                             "INSERT INTO nodes VALUES ('node2@h','grp1')\n"
                             "GRANT read ON t TO x\n";
    auto bad = applyConfigScript(current, good + "DROP USER 'nobody'", kLocal);
    QCOMPARE(bad.status().code(), ErrorCode::NotFound);
    QVERIFY(current == copy);
    QVERIFY(current.findUser("x") == nullptr);
    // The same script without its failing line goes through: the failure alone stopped it.
    auto ok = applyConfigScript(current, good, kLocal);
    QVERIFY2(ok.isOk(), ok.status().toString().c_str());
    QCOMPARE(qs(renderUsers(ok->config)), QString("app:type1=rw root:*=rw x:t=r"));
    QCOMPARE(ok->config.nodes().size(), std::size_t(2));
    QVERIFY(ok->changed);
}

void TestAccess::userStatements_data() {
    QTest::addColumn<QString>("script");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("expected"); // users when OK, else a part of the message
    const int ok = int(ErrorCode::Ok);
    const int invalid = int(ErrorCode::InvalidArgument);
    const int exists = int(ErrorCode::Exists);
    const int notFound = int(ErrorCode::NotFound);
    auto row = [](const char* name, const char* script, int code, const char* expected) {
        QTest::newRow(name) << QString::fromUtf8(script) << code << QString::fromUtf8(expected);
    };
    const char* base = "app:type1=rw root:*=rw";
    row("nothing", "", ok, base);
    // CREATE USER
    row("create starts without rights", "CREATE USER 'u' IDENTIFIED BY 'p'", ok,
        "app:type1=rw root:*=rw u:");
    row("create double quotes", "CREATE USER \"u\" IDENTIFIED BY \"p\"", ok,
        "app:type1=rw root:*=rw u:");
    row("create backticks", "CREATE USER `u` IDENTIFIED BY 'p'", ok, "app:type1=rw root:*=rw u:");
    row("create bare name", "create user u identified by 'p'", ok, "app:type1=rw root:*=rw u:");
    row("create with host", "CREATE USER 'u'@'localhost' IDENTIFIED BY 'p'", ok,
        "app:type1=rw root:*=rw u:");
    row("create with bare host", "CREATE USER 'u'@127.0.0.1 IDENTIFIED BY 'p'", ok,
        "app:type1=rw root:*=rw u:");
    row("create doubled quote", "CREATE USER 'o''k' IDENTIFIED BY 'p'", ok,
        "app:type1=rw o'k: root:*=rw");
    row("create exists", "CREATE USER 'app' IDENTIFIED BY 'p'", exists,
        "CREATE USER: user 'app' already exists");
    row("create twice", "CREATE USER u IDENTIFIED BY 'p'; CREATE USER u IDENTIFIED BY 'q'", exists,
        "user 'u' already exists");
    row("create no password", "CREATE USER 'u'", invalid, "CREATE USER: expected IDENTIFIED");
    row("create no BY", "CREATE USER 'u' IDENTIFIED 'p'", invalid, "expected BY");
    row("create empty password", "CREATE USER 'u' IDENTIFIED BY ''", invalid,
        "the password must not be empty");
    row("create bare password", "CREATE USER 'u' IDENTIFIED BY p", invalid,
        "expected a quoted password");
    row("create empty name", "CREATE USER '' IDENTIFIED BY 'p'", invalid, "expected a user name");
    row("create trailing text", "CREATE USER 'u' IDENTIFIED BY 'p' extra", invalid,
        "unexpected text at the end");
    row("host missing", "DROP USER 'app'@", invalid, "DROP USER: expected a host after @");
    // DROP USER
    row("drop", "DROP USER 'app'", ok, "root:*=rw");
    row("drop bare with host", "drop user app@'%'", ok, "root:*=rw");
    row("drop list", "CREATE USER u IDENTIFIED BY 'p'\nDROP USER 'app', u", ok, "root:*=rw");
    row("drop missing", "DROP USER 'nobody'", notFound, "DROP USER: user 'nobody' does not exist");
    row("drop last admin", "DROP USER root", invalid,
        "MissingRootUser: the script would leave no user with read,write on *");
    row("drop admin with another", "GRANT all ON * TO app\nDROP USER root", ok,
        "app:*=rw,type1=rw");
    // GRANT
    row("grant read", "CREATE USER u IDENTIFIED BY 'p'\nGRANT read ON t TO u", ok,
        "app:type1=rw root:*=rw u:t=r");
    row("grant write", "CREATE USER u IDENTIFIED BY 'p'\nGRANT write ON t TO 'u'", ok,
        "app:type1=rw root:*=rw u:t=w");
    row("grant read,write", "CREATE USER u IDENTIFIED BY 'p'\nGRANT read, write ON t TO u", ok,
        "app:type1=rw root:*=rw u:t=rw");
    row("grant all", "CREATE USER u IDENTIFIED BY 'p'\nGRANT ALL ON t TO u", ok,
        "app:type1=rw root:*=rw u:t=rw");
    row("grant all privileges", "CREATE USER u IDENTIFIED BY 'p'\nGRANT all privileges ON t TO u",
        ok, "app:type1=rw root:*=rw u:t=rw");
    row("grant on star", "CREATE USER u IDENTIFIED BY 'p'\nGRANT read ON * TO u", ok,
        "app:type1=rw root:*=rw u:*=r");
    row("grant adds up",
        "CREATE USER u IDENTIFIED BY 'p'\nGRANT read ON t TO u\n"
        "GRANT write ON t TO u\nGRANT read ON a TO u",
        ok, "app:type1=rw root:*=rw u:a=r,t=rw");
    row("grant with host", "GRANT read ON t2 TO 'app'@'%'", ok, "app:t2=r,type1=rw root:*=rw");
    row("grant quoted type", "GRANT read ON 't2' TO app", ok, "app:t2=r,type1=rw root:*=rw");
    row("grant missing user", "GRANT read ON t TO 'nobody'", notFound,
        "GRANT: user 'nobody' does not exist");
    row("grant bad right", "GRANT select ON t TO app", invalid,
        "GRANT: expected read, write or all");
    row("grant no ON", "GRANT read t TO app", invalid, "GRANT: expected ON");
    row("grant no TO", "GRANT read ON t app", invalid, "GRANT: expected TO");
    row("grant no type", "GRANT read ON TO app", invalid, "expected TO");
    // REVOKE
    row("revoke write", "REVOKE write ON type1 FROM app", ok, "app:type1=r root:*=rw");
    row("revoke read,write", "REVOKE read,write ON type1 FROM 'app'", ok, "app: root:*=rw");
    row("revoke all", "REVOKE ALL ON type1 FROM app", ok, "app: root:*=rw");
    row("revoke not held", "REVOKE read ON other FROM app", ok, base);
    row("revoke star leaves type", "GRANT read ON * TO app\nREVOKE read ON * FROM app", ok, base);
    row("revoke missing user", "REVOKE read ON t FROM nobody", notFound,
        "REVOKE: user 'nobody' does not exist");
    row("revoke with TO", "REVOKE read ON t TO app", invalid, "REVOKE: expected FROM");
    row("revoke last admin", "REVOKE write ON * FROM root", invalid, "MissingRootUser: ");
    // SET PASSWORD / ALTER USER keep grants
    row("set password", "SET PASSWORD FOR 'app' = 'new'", ok, base);
    row("alter user", "ALTER USER app@'%' IDENTIFIED BY 'new'", ok, base);
    row("set password missing", "SET PASSWORD FOR 'nobody' = 'new'", notFound,
        "SET PASSWORD: user 'nobody' does not exist");
    row("alter user missing", "ALTER USER nobody IDENTIFIED BY 'new'", notFound,
        "ALTER USER: user 'nobody' does not exist");
    row("set password no =", "SET PASSWORD FOR app 'new'", invalid, "SET PASSWORD: expected =");
    row("set password empty", "SET PASSWORD FOR app = ''", invalid,
        "the password must not be empty");
    row("set password bad call", "SET PASSWORD FOR app = PASSWORD('x'", invalid,
        "expected ) after the password");
}

void TestAccess::userStatements() {
    QFETCH(QString, script);
    QFETCH(int, code);
    QFETCH(QString, expected);
    const AccessConfig current = initConfig();
    auto r = applyConfigScript(current, script.toStdString(), kLocal);
    QCOMPARE(int(r.status().code()), code);
    if (code == int(ErrorCode::Ok))
        QCOMPARE(qs(renderUsers(r->config)), expected);
    else
        QVERIFY2(qs(r.status().message()).contains(expected), r.status().message().c_str());
}

void TestAccess::passwordChanges_data() {
    QTest::addColumn<QString>("statement");
    QTest::newRow("set password") << "SET PASSWORD FOR 'app' = 'n3w'";
    QTest::newRow("set password call") << "set password for app = password(\"n3w\")";
    QTest::newRow("alter user") << "ALTER USER 'app' IDENTIFIED BY 'n3w'";
    QTest::newRow("alter user host") << "alter user 'app'@'localhost' identified by 'n3w'";
}

void TestAccess::passwordChanges() {
    QFETCH(QString, statement);
    const AccessConfig current = initConfig();
    auto r = applyConfigScript(current, statement.toStdString(), kLocal);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    QVERIFY(r->changed);
    QCOMPARE(r->result.rowsChanged, std::int64_t(1));
    const UserRecord* app = r->config.findUser("app");
    QVERIFY(app);
    QVERIFY(verifyPassword(*app, "n3w"));
    QVERIFY(!verifyPassword(*app, "secret"));
    QCOMPARE(app->nativeHash, sha1(sha1("n3w")));
    QCOMPARE(qs(renderUsers(r->config)), QString("app:type1=rw root:*=rw"));
    QVERIFY(verifyPassword(*r->config.findUser("root"), "rootpass"));
}

void TestAccess::passwordsNeverEchoed() {
    const std::string secret = "Sup3rSecret";
    const AccessConfig current = initConfig();
    const std::vector<std::string> scripts = {
        "CREATE USER 'app' IDENTIFIED BY '" + secret + "'",
        "CREATE USER 'x' IDENTIFIED BY '" + secret + "' junk",
        "CREATE USER 'x' IDENTIFIED '" + secret + "'",
        "SET PASSWORD FOR nobody = '" + secret + "'",
        "ALTER USER nobody IDENTIFIED BY '" + secret + "'",
        "CREAT USER 'x' IDENTIFIED BY '" + secret + "'",
        "'" + secret + "'",
    };
    for (const std::string& script : scripts) {
        auto r = applyConfigScript(current, script, kLocal);
        QVERIFY2(!r.isOk(), script.c_str());
        QVERIFY2(r.status().message().find(secret) == std::string::npos,
                 r.status().message().c_str());
    }
    auto r = applyConfigScript(current,
                               "CREATE USER 'x' IDENTIFIED BY '" + secret +
                                   "'\nSELECT * FROM users\nSELECT * FROM grants",
                               kLocal);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    QCOMPARE(qs(renderResult(r->result)),
             QString("user,actor_type,rights | app,type1,read,write; root,*,read,write"));
    auto users = applyConfigScript(r->config, "SELECT * FROM users", kLocal);
    QVERIFY(users.isOk());
    QCOMPARE(qs(renderResult(users->result)), QString("name | app; root; x"));
    const std::string encoded = encodeAccessConfig(r->config);
    QVERIFY(encoded.find(secret) == std::string::npos);
    QVERIFY(encoded.find("rootpass") == std::string::npos);
}

void TestAccess::actorAccess_data() {
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("type");
    QTest::addColumn<bool>("write");
    QTest::addColumn<bool>("allowed");
    auto row = [](const char* name, const char* user, const char* type, bool write, bool allowed) {
        QTest::newRow(name) << user << type << write << allowed;
    };
    row("admin reads any", "root", "whatever", false, true);
    row("admin writes any", "root", "whatever", true, true);
    row("rw type read", "app", "type1", false, true);
    row("rw type write", "app", "type1", true, true);
    row("rw type other read", "app", "type2", false, false);
    row("rw type other write", "app", "type2", true, false);
    row("reader read", "reader", "type1", false, true);
    row("reader write", "reader", "type1", true, false);
    row("writer write", "writer", "type1", true, true);
    row("writer read", "writer", "type1", false, false);
    row("star reader read any", "starreader", "anything", false, true);
    row("star reader write", "starreader", "anything", true, false);
    row("star reader plus type write", "starreader", "type1", true, true);
    row("no rights", "nobody_rights", "type1", false, false);
    row("unknown user", "ghost", "type1", false, false);
    row("type is case sensitive", "app", "TYPE1", false, false);
}

void TestAccess::actorAccess() {
    QFETCH(QString, user);
    QFETCH(QString, type);
    QFETCH(bool, write);
    QFETCH(bool, allowed);
    auto r = applyConfigScript(initConfig(),
                               "CREATE USER reader IDENTIFIED BY 'p'\n"
                               "GRANT read ON type1 TO reader\n"
                               "CREATE USER writer IDENTIFIED BY 'p'\n"
                               "GRANT write ON type1 TO writer\n"
                               "CREATE USER starreader IDENTIFIED BY 'p'\n"
                               "GRANT read ON * TO starreader\n"
                               "GRANT write ON type1 TO starreader\n"
                               "CREATE USER nobody_rights IDENTIFIED BY 'p'\n",
                               kLocal);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    Status st = r->config.checkActorAccess(user.toStdString(), type.toStdString(), write);
    QCOMPARE(st.isOk(), allowed);
    if (!allowed) {
        QCOMPARE(st.code(), ErrorCode::NotPermitted);
        const QString expected = QString("user '%1' may not %2 actors of type '%3'")
                                     .arg(user, write ? "write" : "read", type);
        QVERIFY2(qs(st.message()).startsWith(expected), st.message().c_str());
    }
}

void TestAccess::adminChecks() {
    const AccessConfig c = initConfig();
    QVERIFY(c.checkAdmin("root").isOk());
    Status app = c.checkAdmin("app");
    QCOMPARE(app.code(), ErrorCode::NotPermitted);
    QVERIFY2(qs(app.message()).contains("user 'app' is not an administrator"),
             app.message().c_str());
    QCOMPARE(c.checkAdmin("ghost").code(), ErrorCode::NotPermitted);
    // read on * alone is not enough, nor is read,write on every named type
    auto r = applyConfigScript(c, "GRANT read ON * TO app", kLocal);
    QVERIFY(r.isOk());
    QCOMPARE(r->config.checkAdmin("app").code(), ErrorCode::NotPermitted);
    r = applyConfigScript(c, "GRANT write ON * TO app", kLocal);
    QVERIFY(r.isOk());
    QCOMPARE(r->config.checkAdmin("app").code(), ErrorCode::NotPermitted);
    r = applyConfigScript(c, "GRANT read,write ON * TO app", kLocal);
    QVERIFY(r.isOk());
    QVERIFY(r->config.checkAdmin("app").isOk());
    QVERIFY(r->config.checkActorAccess("app", "anything", true).isOk());
}

void TestAccess::uninitialized() {
    const AccessConfig empty;
    QVERIFY(!empty.initialized());
    QCOMPARE(empty.checkActorAccess("root", "t", false).code(), ErrorCode::NotInitialized);
    QCOMPARE(empty.checkAdmin("root").code(), ErrorCode::NotInitialized);
    QVERIFY(initConfig().checkActorAccess("root", "t", false).isOk());
}

void TestAccess::select_data() {
    QTest::addColumn<QString>("script");
    QTest::addColumn<QString>("expected");
    const char* more = "INSERT INTO groups VALUES ('grp2','cluster')\n"
                       "INSERT INTO nodes VALUES ('node2@10.0.0.2','grp2')\n"
                       "INSERT INTO nodes VALUES ('node3@10.0.0.3','grp2')\n"
                       "CREATE USER bob IDENTIFIED BY 'p'\n"
                       "GRANT read ON t2 TO bob\n";
    auto row = [&](const char* name, const char* select, const char* expected) {
        QTest::newRow(name) << QString::fromUtf8(std::string(more).append(select).c_str())
                            << QString::fromUtf8(expected);
    };
    row("groups", "SELECT * FROM groups ORDER BY name", "name,type | grp1,cluster; grp2,cluster");
    row("groups where", "SELECT name FROM groups WHERE name = 'grp2'", "name | grp2");
    row("nodes", "SELECT * FROM nodes ORDER BY name",
        "name,group_name | node1@127.0.0.1,grp1; node2@10.0.0.2,grp2; node3@10.0.0.3,grp2");
    row("nodes where", "select name from nodes where group_name='grp2' order by name desc",
        "name | node3@10.0.0.3; node2@10.0.0.2");
    row("nodes count", "SELECT count(*) AS n FROM nodes", "n | 3");
    row("nodes join",
        "SELECT n.name, g.type FROM nodes n JOIN groups g ON g.name = n.group_name "
        "WHERE n.name LIKE 'node1%'",
        "name,type | node1@127.0.0.1,cluster");
    row("users", "SELECT * FROM users ORDER BY name", "name | app; bob; root");
    row("users where", "SELECT name FROM users WHERE name = 'bob'", "name | bob");
    row("grants", "SELECT * FROM grants ORDER BY user, actor_type",
        "user,actor_type,rights | app,type1,read,write; bob,t2,read; root,*,read,write");
    row("grants where", "SELECT actor_type, rights FROM grants WHERE user = 'bob'",
        "actor_type,rights | t2,read");
    row("empty answer", "SELECT * FROM users WHERE name = 'nobody'", "name | ");
    row("last select wins", "SELECT 1 AS a\nSELECT name FROM groups WHERE name='grp1'",
        "name | grp1");
    row("sees earlier writes", "DROP USER bob\nSELECT name FROM users ORDER BY name",
        "name | app; root");
}

void TestAccess::select() {
    QFETCH(QString, script);
    QFETCH(QString, expected);
    auto r = applyConfigScript(initConfig(), script.toStdString(), kLocal);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    QCOMPARE(qs(renderResult(r->result)), expected);
}

void TestAccess::nodeChanges_data() {
    QTest::addColumn<QString>("script");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("expected"); // nodes when OK, else a part of the message
    QTest::addColumn<int>("rowsChanged");
    const int ok = int(ErrorCode::Ok);
    const int invalid = int(ErrorCode::InvalidArgument);
    const char* add = "INSERT INTO nodes VALUES ('node2@h2','grp1'), ('node3@h3','grp1')\n";
    auto row = [&](const char* name, const char* script, int code, const char* expected, int rows) {
        QTest::newRow(name) << QString::fromUtf8(std::string(add).append(script).c_str()) << code
                            << QString::fromUtf8(expected) << rows;
    };
    row("add", "", ok, "[grp1/cluster] node1@127.0.0.1/grp1 node2@h2/grp1 node3@h3/grp1", 2);
    row("delete one", "DELETE FROM nodes WHERE name = 'node2@h2'", ok,
        "[grp1/cluster] node1@127.0.0.1/grp1 node3@h3/grp1", 3);
    row("delete none", "DELETE FROM nodes WHERE name = 'nope@h'", ok,
        "[grp1/cluster] node1@127.0.0.1/grp1 node2@h2/grp1 node3@h3/grp1", 2);
    row("delete like", "delete from nodes where name like 'node_@h%'", ok,
        "[grp1/cluster] node1@127.0.0.1/grp1", 4);
    row("delete all", "DELETE FROM nodes", invalid,
        "MissingNodesInsert: the script would leave no node", 0);
    row("update name", "UPDATE nodes SET name = 'node4@h4' WHERE name = 'node3@h3'", ok,
        "[grp1/cluster] node1@127.0.0.1/grp1 node2@h2/grp1 node4@h4/grp1", 3);
    row("update bad name", "UPDATE nodes SET name = 'broken' WHERE name = 'node3@h3'", invalid,
        "node name 'broken' does not look like name@host", 0);
    row("update missing group", "UPDATE nodes SET group_name = 'g9' WHERE name = 'node3@h3'",
        invalid, "node 'node3@h3' is in group 'g9', which does not exist", 0);
    row("move to new group",
        "INSERT INTO groups VALUES ('g2','cluster')\n"
        "UPDATE nodes SET group_name = 'g2' WHERE name = 'node3@h3'",
        ok, "[g2/cluster] [grp1/cluster] node1@127.0.0.1/grp1 node2@h2/grp1 node3@h3/g2", 4);
    row("delete used group", "DELETE FROM groups WHERE name = 'grp1'", invalid,
        "is in group 'grp1', which does not exist", 0);
    row("duplicate node", "INSERT INTO nodes VALUES ('node2@h2','grp1')", int(ErrorCode::SqlError),
        "UNIQUE constraint failed: nodes.name", 0);
    row("bad insert in init form", "INSERT INTO nodes VALUES ('x','grp1')", invalid,
        "'INSERT INTO nodes VALUES ('x','grp1')': node name 'x'", 0);
}

void TestAccess::nodeChanges() {
    QFETCH(QString, script);
    QFETCH(int, code);
    QFETCH(QString, expected);
    QFETCH(int, rowsChanged);
    auto r = applyConfigScript(initConfig(), script.toStdString(), "node9@elsewhere");
    QCOMPARE(int(r.status().code()), code);
    if (code != int(ErrorCode::Ok)) {
        QVERIFY2(qs(r.status().message()).contains(expected), r.status().message().c_str());
        return;
    }
    QCOMPARE(qs(renderNodes(r->config)), expected);
    QCOMPARE(r->result.rowsChanged, std::int64_t(rowsChanged));
    QCOMPARE(qs(renderUsers(r->config)), QString("app:type1=rw root:*=rw"));
}

void TestAccess::rejected_data() {
    QTest::addColumn<QString>("statement");
    QTest::addColumn<QString>("message");
    auto row = [](const char* name, const char* statement, const char* message) {
        QTest::newRow(name) << QString::fromUtf8(statement) << QString::fromUtf8(message);
    };
    row("create table", "CREATE TABLE x (a)", "CREATE TABLE is not permitted in config");
    row("drop table", "DROP TABLE nodes", "DROP TABLE is not permitted");
    row("pragma", "PRAGMA foreign_keys=OFF", "PRAGMA FOREIGN_KEYS is not permitted");
    row("attach", "ATTACH DATABASE 'x.db' AS x", "ATTACH DATABASE is not permitted");
    row("alter table", "ALTER TABLE nodes ADD c", "ALTER TABLE is not permitted");
    row("actor", "ACTOR t(a)", "ACTOR T is not permitted");
    row("use schema", "USE schema", "USE SCHEMA is not permitted");
    row("rollback", "ROLLBACK", "ROLLBACK is not permitted");
    row("vacuum", "VACUUM", "VACUUM is not permitted");
    row("insert users", "INSERT INTO users VALUES ('x')",
        "'INSERT INTO users VALUES ('x')' is not permitted in config");
    row("update grants", "UPDATE grants SET rights = 'read,write'", "is not permitted in config");
    row("delete users", "DELETE FROM users", "is not permitted in config");
    row("delete grants", "DELETE FROM grants WHERE user = 'app'", "is not permitted in config");
    row("select master", "SELECT * FROM sqlite_master", "is not permitted in config");
    row("select schema", "SELECT sql FROM sqlite_schema", "is not permitted in config");
    row("insert from master", "INSERT INTO groups SELECT name, 'cluster' FROM sqlite_master",
        "is not permitted in config");
    row("select pragma function", "SELECT * FROM pragma_table_info('nodes')",
        "is not permitted in config");
}

void TestAccess::rejected() {
    QFETCH(QString, statement);
    QFETCH(QString, message);
    const AccessConfig current = initConfig();
    auto r = applyConfigScript(current, statement.toStdString(), kLocal);
    QVERIFY2(r.status().code() == ErrorCode::NotPermitted, r.status().toString().c_str());
    QVERIFY2(qs(r.status().message()).contains(message), r.status().message().c_str());
}

void TestAccess::unchangedScript() {
    const AccessConfig current = initConfig();
    auto r = applyConfigScript(current, "SELECT * FROM nodes", kLocal);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    QVERIFY(!r->changed);
    QVERIFY(!r->result.wrote);
    QCOMPARE(r->result.rowsChanged, std::int64_t(0));
    QVERIFY(r->config == current);
    r = applyConfigScript(current, "DELETE FROM nodes WHERE name = 'none@h'", kLocal);
    QVERIFY(r.isOk());
    QVERIFY(!r->changed);
    r = applyConfigScript(current, "GRANT read ON type1 TO app", kLocal);
    QVERIFY(r.isOk());
    QVERIFY(!r->changed);
    QCOMPARE(r->result.rowsChanged, std::int64_t(0));
    r = applyConfigScript(current, "GRANT read ON type2 TO app", kLocal);
    QVERIFY(r.isOk());
    QVERIFY(r->changed);
    QCOMPARE(r->result.rowsChanged, std::int64_t(1));
}

void TestAccess::digests() {
    QCOMPARE(QByteArray::fromStdString(sha1("abc")).toHex(),
             QByteArray("a9993e364706816aba3e25717850c26c9cd0d89d"));
    QCOMPARE(QByteArray::fromStdString(sha256("abc")).toHex(),
             QByteArray("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    // MySQL's PASSWORD('password') is '*' + hex(SHA1(SHA1('password'))).
    auto user = makeUser("u", "password");
    QVERIFY(user.isOk());
    QCOMPARE(QByteArray::fromStdString(user->nativeHash).toHex().toUpper(),
             QByteArray("2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"));
    QCOMPARE(user->salt.size(), std::size_t(16));
    QCOMPARE(user->sha256Hash, sha256(user->salt + "password"));
    QCOMPARE(makeUser("u", "").status().code(), ErrorCode::InvalidArgument);
    QCOMPARE(makeUser("", "p").status().code(), ErrorCode::InvalidArgument);
}

void TestAccess::verifyPlainPassword() {
    auto user = makeUser("u", "correct horse");
    QVERIFY(user.isOk());
    QVERIFY(verifyPassword(*user, "correct horse"));
    QVERIFY(!verifyPassword(*user, "correct hors"));
    QVERIFY(!verifyPassword(*user, "correct horse "));
    QVERIFY(!verifyPassword(*user, "Correct horse"));
    QVERIFY(!verifyPassword(*user, ""));
    UserRecord broken = *user;
    broken.sha256Hash.clear();
    QVERIFY(!verifyPassword(broken, "correct horse"));
}

void TestAccess::nativeScrambleChecks() {
    const std::string salt = "0123456789abcdefghij";
    const std::string otherSalt = "jihgfedcba9876543210";
    auto user = makeUser("u", "s3cret");
    QVERIFY(user.isOk());
    const std::string scramble = nativeScramble("s3cret", salt);
    QCOMPARE(scramble.size(), std::size_t(20));
    // The protocol's formula, written out independently.
    std::string expected = sha1("s3cret");
    const std::string mask = sha1(salt + sha1(sha1("s3cret")));
    for (std::size_t i = 0; i < expected.size(); ++i)
        expected[i] = char(expected[i] ^ mask[i]);
    QCOMPARE(scramble, expected);
    QVERIFY(verifyNativeScramble(*user, salt, scramble));
    QVERIFY(!verifyNativeScramble(*user, salt, nativeScramble("s3cre", salt)));
    QVERIFY(!verifyNativeScramble(*user, otherSalt, scramble));
    QVERIFY(verifyNativeScramble(*user, otherSalt, nativeScramble("s3cret", otherSalt)));
    QVERIFY(!verifyNativeScramble(*user, salt, scramble.substr(0, 19)));
    QVERIFY(!verifyNativeScramble(*user, salt.substr(0, 19), scramble));
    QVERIFY(!verifyNativeScramble(*user, salt, ""));
    std::string flipped = scramble;
    flipped[7] = char(flipped[7] ^ 1);
    QVERIFY(!verifyNativeScramble(*user, salt, flipped));
}

void TestAccess::saltPerUser() {
    auto r = applyConfigScript(initConfig(),
                               "CREATE USER a IDENTIFIED BY 'same'\n"
                               "CREATE USER b IDENTIFIED BY 'same'",
                               kLocal);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    const UserRecord* a = r->config.findUser("a");
    const UserRecord* b = r->config.findUser("b");
    QVERIFY(a && b);
    QVERIFY(a->salt != b->salt);
    QVERIFY(a->sha256Hash != b->sha256Hash);
    QCOMPARE(a->nativeHash, b->nativeHash); // mysql_native_password has no salt of its own
    QVERIFY(verifyPassword(*a, "same"));
    QVERIFY(verifyPassword(*b, "same"));
}

void TestAccess::encodeRoundTrip() {
    auto r = applyConfigScript(initConfig(),
                               "INSERT INTO groups VALUES ('g2','ram')\n"
                               "INSERT INTO nodes VALUES ('n2@h','g2')\n"
                               "CREATE USER 'w''x' IDENTIFIED BY 'p'\n"
                               "GRANT read ON a TO 'w''x'\nGRANT write ON b TO 'w''x'\n"
                               "GRANT read ON * TO 'w''x'",
                               kLocal);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    for (const AccessConfig& config : {AccessConfig(), initConfig(), r->config}) {
        const std::string bytes = encodeAccessConfig(config);
        auto decoded = decodeAccessConfig(bytes);
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        QVERIFY(*decoded == config);
        QCOMPARE(decoded->initialized(), config.initialized());
        QCOMPARE(encodeAccessConfig(*decoded), bytes);
    }
    auto decoded = decodeAccessConfig(encodeAccessConfig(r->config));
    QVERIFY(decoded.isOk());
    QCOMPARE(qs(renderUsers(*decoded)), QString("app:type1=rw root:*=rw w'x:*=r,a=r,b=w"));
    QVERIFY(verifyPassword(*decoded->findUser("w'x"), "p"));
}

void TestAccess::decodeTruncatedAtEveryLength() {
    const std::string bytes = encodeAccessConfig(initConfig());
    QVERIFY(bytes.size() > 100);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        auto r = decodeAccessConfig(std::string_view(bytes).substr(0, n));
        QVERIFY2(!r.isOk(), std::to_string(n).c_str());
        QCOMPARE(r.status().code(), ErrorCode::Corruption);
    }
}

void TestAccess::decodeCorrupt_data() {
    QTest::addColumn<QByteArray>("bytes");
    const QByteArray good = QByteArray::fromStdString(encodeAccessConfig(initConfig()));
    auto patched = [&](int pos, char value) {
        QByteArray b = good;
        b[pos] = value;
        return b;
    };
    QTest::newRow("bad magic") << patched(0, 'X');
    QTest::newRow("bad version") << patched(4, 3); // 1 and 2 are known
    QTest::newRow("bad flags") << patched(5, 4);
    QTest::newRow("trailing byte") << good + QByteArray(1, '\0');
    QTest::newRow("huge group count") << patched(6, char(0xff));
    QTest::newRow("rights zero") << patched(good.size() - 1, 0); // last grant's rights
    QTest::newRow("rights unknown") << patched(good.size() - 1, 7);
    QTest::newRow("group name lost") << patched(13, 0); // first group's name length, low byte
    QByteArray unsortedDup = good;
    // Rename group "grp1"'s node group reference to a group that does not exist.
    const int at = unsortedDup.indexOf("node1@127.0.0.1") + 15 + 4;
    unsortedDup[at] = 'X';
    QTest::newRow("node in unknown group") << unsortedDup;
    QByteArray hash = good;
    const int nameAt = hash.indexOf("root");
    hash[nameAt + 4 + 3] = 19; // nativeHash length 20 -> 19
    QTest::newRow("short hash") << hash;
}

void TestAccess::decodeCorrupt() {
    QFETCH(QByteArray, bytes);
    auto r = decodeAccessConfig(bytes.toStdString());
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().code(), ErrorCode::Corruption);
}

void TestAccess::decodeFlippedBytesNeverCrash() {
    const std::string good = encodeAccessConfig(initConfig());
    for (std::size_t i = 0; i < good.size(); ++i) {
        for (unsigned char x : {0x01, 0x80, 0xff}) {
            std::string bytes = good;
            bytes[i] = char(bytes[i] ^ x);
            auto r = decodeAccessConfig(bytes);
            if (!r.isOk())
                QCOMPARE(r.status().code(), ErrorCode::Corruption);
        }
    }
}

QTEST_APPLESS_MAIN(TestAccess)
#include "tst_access.moc"
