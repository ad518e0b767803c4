// tst_sqllogic: the ActorDB dialect of sql::Database (issue 3) as data, in the style of DuckDB's
// and SQLite's sqllogictest. Every tests/sql/**/*.test file is one QtTest data row; it runs
// against a fresh Database (EngineOptions{temporary dataDir, executorThreads 2}). All failures
// of a file are reported together, each as file:line with the request, expected and actual.
//
// Format (also in tests/sql/README.md). Lines starting with `#` between records are comments;
// records are separated by blank lines; a record's body ends at the next blank line, so request
// texts cannot contain blank lines.
//
//   statement ok [changed=N] [lastid=N]     the body runs through query(); optional checks of
//   <request>                               rowsChanged and lastInsertRowid
//
//   statement error <Code> [substring...]   must fail with ErrorCode::<Code> (the enumerator
//   <request>                               names of core/status.h) and, when given, a message
//                                           containing the substring (case-insensitively)
//
//   query <types> [rowsort] [colnames] [anyrows] [config|schema|script|api]
//   <request>
//   ----
//   <expected rows>
//       One letter per result column: I integer, R real, T text, B blob, ? any; or `*` alone
//       for any number of columns of any type. A non-NULL value of another storage class
//       fails. Values: NULL; integers in decimal; reals with up to 12 significant digits
//       (%.12g); text as is with tab/newline/CR written \t \n \r and the empty string as
//       (empty); blobs as lower-case hex ((empty) when empty). Cells are separated by a tab
//       (or, in a line without tabs, by two or more spaces; a one-column row is never split).
//       An expected cell (any) matches any value (a column that is (any) in every row is
//       masked before sorting). colnames: the first expected line holds the column names.
//       rowsort: actual and expected rows are compared sorted as strings. anyrows: only the
//       column count, names and value types are checked (volatile output such as SHOW status).
//       The last word picks the entry point (default query()).
//
//   config ok|error ...    the same as `statement`, through config(); likewise schema ok|error
//   schema ok|error ...    (schema()), script ok|error (script()) and api ok|error (direct
//   script ok|error ...    facade calls, see below).
//   api ok|error ...
//
//   session <name> [user=<u>]   later records run as Session{u}; the user defaults to the name
//                               the first time a name is used; `session default` = Session{}
//                               (the node itself, every right)
//   restart                     shut the Database down, open it again on the same directory
//   init                        config(): group grp1, node node1@127.0.0.1, user root/rootpass
//   params <lit> <lit> ...      parameters of the next record only: 12, -1.5, 'text', NULL,
//                               X'00ff'
//
// api bodies: actor_types | actor_tables <type> | actor_columns <type> <table> (columns name,
// type, pk, notnull) | authenticate <user> <password> | uniqid | initialized |
// single <type> <name> [create] [safe] [fsync] followed by the SQL on the next lines
// (querySingle).

#include <QDirIterator>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "slt_file.h"
#include "slt_runner.h"

#ifndef TROUPE_SQL_TESTS_DIR
#error "TROUPE_SQL_TESTS_DIR must name the directory holding the .test files"
#endif

using namespace troupe;

class TestSqlLogic : public QObject {
    Q_OBJECT

private slots:
    void run_data() {
        QTest::addColumn<QString>("path");
        const QDir root(QStringLiteral(TROUPE_SQL_TESTS_DIR));
        QStringList files;
        QDirIterator it(root.path(), {QStringLiteral("*.test")}, QDir::Files,
                        QDirIterator::Subdirectories);
        while (it.hasNext())
            files << root.relativeFilePath(it.next());
        files.sort();
        QVERIFY2(!files.isEmpty(), "no .test files found");
        for (const QString& file : files)
            QTest::newRow(file.toUtf8().constData()) << root.filePath(file);
    }

    void run() {
        QFETCH(QString, path);
        QFile file(path);
        QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable("cannot read " + path));
        const QByteArray bytes = file.readAll();
        const slt::TestFile parsed =
            slt::parseTestFile(std::string_view(bytes.constData(), bytes.size()));
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString label = QDir(QStringLiteral(TROUPE_SQL_TESTS_DIR)).relativeFilePath(path);
        std::vector<std::string> failures;
        {
            slt::Runner runner(dir.path().toStdString(), label.toStdString());
            failures = runner.run(parsed);
        }
        if (!failures.empty()) {
            std::string all = std::to_string(failures.size()) + " failure(s):";
            for (const auto& f : failures)
                all += "\n" + f;
            QFAIL(all.c_str());
        }
    }
};

QTEST_GUILESS_MAIN(TestSqlLogic)
#include "tst_sqllogic.moc"
