// The `troupe` shell's admin commands (shell/admin_commands.h): which lines are admin commands
// and which stay SQL, their arguments and errors, and the tables made from the answers.

#include <QTest>

#include "admin_commands.h"
#include "format.h"

using namespace troupe;
using namespace troupe::shell;
using Kind = AdminCommand::Kind;

Q_DECLARE_METATYPE(AdminCommand::Kind)

class TestShellAdmin : public QObject {
    Q_OBJECT

private slots:
    void parses_data() {
        QTest::addColumn<QString>("line");
        QTest::addColumn<Kind>("kind");
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("prefix");
        QTest::newRow("cluster") << "show cluster" << Kind::Cluster << ""
                                 << ""
                                 << "";
        QTest::newRow("verify") << "show verify;" << Kind::Verify << ""
                                << ""
                                << "";
        QTest::newRow("any case, semicolon") << "  SHOW Cluster ; " << Kind::Cluster << ""
                                             << ""
                                             << "";
        QTest::newRow("metrics") << "show metrics" << Kind::Metrics << ""
                                 << ""
                                 << "";
        QTest::newRow("metrics like") << "show metrics like 'troupe_thrift%'" << Kind::Metrics << ""
                                      << ""
                                      << "troupe_thrift";
        QTest::newRow("actors") << "show actors notes" << Kind::Actors << "notes"
                                << ""
                                << "";
        QTest::newRow("actors like")
            << "show actors notes LIKE 'user_1%';" << Kind::Actors << "notes"
            << ""
            << "user_1";
        QTest::newRow("actors like quotes") << "show actors t like 'it''s%'" << Kind::Actors << "t"
                                            << ""
                                            << "it's";
        QTest::newRow("actor") << "show actor notes(alice)" << Kind::Actor << "notes"
                               << "alice"
                               << "";
        QTest::newRow("actor quoted") << "show actor notes ( 'a b' )" << Kind::Actor << "notes"
                                      << "a b"
                                      << "";
        QTest::newRow("actor dashes") << "show actor notes(user-1.x)" << Kind::Actor << "notes"
                                      << "user-1.x"
                                      << "";
        QTest::newRow("schema history") << "show schema history" << Kind::SchemaHistory << ""
                                        << ""
                                        << "";
        QTest::newRow("schema history type")
            << "show schema history notes" << Kind::SchemaHistory << "notes"
            << ""
            << "";
    }
    void parses() {
        QFETCH(QString, line);
        QFETCH(Kind, kind);
        QFETCH(QString, type);
        QFETCH(QString, name);
        QFETCH(QString, prefix);
        auto parsed = parseAdminCommand(line.toStdString());
        QVERIFY(parsed.has_value());
        QVERIFY2(parsed->isOk(), parsed->status().toString().c_str());
        QCOMPARE((*parsed)->kind, kind);
        QCOMPARE(QString::fromStdString((*parsed)->type), type);
        QCOMPARE(QString::fromStdString((*parsed)->name), name);
        QCOMPARE(QString::fromStdString((*parsed)->prefix), prefix);
    }

    // The dialect's own SHOW statements and everything else go to the server.
    void notAdmin_data() {
        QTest::addColumn<QString>("line");
        QTest::newRow("SHOW schema") << "SHOW schema";
        QTest::newRow("SHOW shards") << "show shards";
        QTest::newRow("SHOW status") << "show status;";
        QTest::newRow("SHOW tables") << "show tables";
        QTest::newRow("select") << "select 'show cluster'";
        QTest::newRow("showcase") << "showcase";
        QTest::newRow("empty") << "";
    }
    void notAdmin() {
        QFETCH(QString, line);
        QVERIFY(!parseAdminCommand(line.toStdString()).has_value());
    }

    void badArguments_data() {
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("says");
        QTest::newRow("actors without type") << "show actors"
                                             << "usage: show actors";
        QTest::newRow("like not a prefix") << "show actors t like '%x'"
                                           << "prefix";
        QTest::newRow("like without quotes") << "show actors t like x%"
                                             << "prefix";
        QTest::newRow("extra words") << "show cluster now"
                                     << "usage: show cluster";
        QTest::newRow("actor without name") << "show actor notes"
                                            << "usage: show actor";
        QTest::newRow("actor unclosed") << "show actor notes(a"
                                        << "usage: show actor";
        QTest::newRow("history two types") << "show schema history a b"
                                           << "usage: show schema history";
    }
    void badArguments() {
        QFETCH(QString, line);
        QFETCH(QString, says);
        auto parsed = parseAdminCommand(line.toStdString());
        QVERIFY(parsed.has_value());
        QVERIFY(!parsed->isOk());
        QCOMPARE(parsed->status().code(), ErrorCode::InvalidArgument);
        QVERIFY2(parsed->status().message().find(says.toStdString()) != std::string::npos,
                 parsed->status().message().c_str());
    }

    void tables() {
        client::ClusterInfo info;
        info.nodeName = "node1@127.0.0.1";
        info.version = "0.1.0";
        info.uptimeSeconds = 5;
        info.ports = {{"thrift", 33306}};
        info.nodes = {{"node1@127.0.0.1", "grp1"}};
        info.groups = {{"grp1", "cluster"}};
        info.shards = {
            client::ShardInfo{0, 0, 99, "node1@127.0.0.1", {"node1@127.0.0.1"}, "leader"}};
        const auto cluster = clusterResults(info);
        QCOMPARE(cluster.size(), std::size_t(3));
        QCOMPARE(formatResult(cluster[0], Format::Csv),
                 std::string("node,node1@127.0.0.1\r\nversion,0.1.0\r\nuptime_seconds,5\r\n"
                             "thrift_port,33306\r\n"));
        QCOMPARE(formatResult(cluster[1], Format::Csv),
                 std::string("node1@127.0.0.1,grp1,cluster\r\n"));
        QCOMPARE(formatResult(cluster[2], Format::CsvHeader),
                 std::string("shard,hash_from,hash_to,leader,replicas,state\r\n"
                             "0,0,99,node1@127.0.0.1,node1@127.0.0.1,leader\r\n"));

        const auto metrics =
            metricsResult({{"a_total", 3.0}, {"b", 0.5}, {"c", 1e300}}, std::string_view());
        QCOMPARE(formatResult(metrics, Format::Csv),
                 std::string("a_total,3\r\nb,0.5\r\nc,1e+300\r\n"));
        QCOMPARE(metricsResult({{"a_total", 3.0}, {"b", 0.5}}, "a_").rows.size(), std::size_t(1));

        client::SchemaInfo schema;
        schema.types = {client::ActorTypeSchema{
            "notes", false, 2, {{1, {"CREATE TABLE a (x)"}}, {2, {"CREATE TABLE b (y)"}}}}};
        QCOMPARE(formatResult(schemaHistoryResult(schema), Format::Csv),
                 std::string("notes,actor,1,CREATE TABLE a (x)\r\nnotes,actor,2,CREATE TABLE b "
                             "(y)\r\n"));
    }
};

QTEST_APPLESS_MAIN(TestShellAdmin)
#include "tst_shell_admin.moc"
