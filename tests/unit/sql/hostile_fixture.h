#pragma once

// HostileFixture: a Database on a temporary directory, initialised with type1 (a table and an fts4
// table; actor type1(a) adds an fts5 and an R-tree table), the admin `root`, a `writer` (read,write
// on type1) and a `reader` (read on type1), for the tests of SQL a user should not be able to harm
// the server with (tst_actor_lockdown, tst_sql_malformed). Used by one test thread.

#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "sql/database.h"

namespace troupe::test {

inline const char* statusText(const Status& s) {
    static thread_local std::string text;
    text = s.toString();
    return text.c_str();
}

class HostileFixture {
public:
    sql::Session node;             // the node itself: every right
    sql::Session root{"root"};     // admin
    sql::Session writer{"writer"}; // read,write on type1
    sql::Session reader{"reader"}; // read on type1

    // Opens and initialises; false (with a QtTest failure) when that fails.
    bool open() {
        sql::DatabaseOptions options;
        options.engine.dataDir = (m_dir.path() + "/db").toStdString();
        options.engine.executorThreads = 2;
        auto db = sql::Database::open(options);
        if (!db) {
            qWarning("open: %s", statusText(db.status()));
            return false;
        }
        m_db = std::move(*db);
        auto c = m_db->config(node, "INSERT INTO groups VALUES ('grp1','cluster');\n"
                                    "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');\n"
                                    "CREATE USER 'root' IDENTIFIED BY 'rootpass';\n"
                                    "CREATE USER 'writer' IDENTIFIED BY 'writerpass';\n"
                                    "GRANT read,write ON type1 TO 'writer';\n"
                                    "CREATE USER 'reader' IDENTIFIED BY 'readerpass';\n"
                                    "GRANT read ON type1 TO 'reader';");
        if (!c) {
            qWarning("config: %s", statusText(c.status()));
            return false;
        }
        auto s = m_db->schema(node, "ACTOR type1\n"
                                    "CREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT)\n"
                                    "CREATE VIRTUAL TABLE ft4 USING fts4(body)\n");
        if (!s) {
            qWarning("schema: %s", statusText(s.status()));
            return false;
        }
        // fts5 and the R-tree in the actor itself: schema scripts refuse them today (their
        // validation refuses the PRAGMA data_version and page_size that these modules run).
        auto w = m_db->query(node, "ACTOR type1(a) create; INSERT INTO tab VALUES (1, 'one');"
                                   "CREATE VIRTUAL TABLE ft5 USING fts5(body);"
                                   "CREATE VIRTUAL TABLE rt USING rtree(id, x0, x1);"
                                   "INSERT INTO ft4 VALUES ('hello world');"
                                   "INSERT INTO ft5 VALUES ('hello world');"
                                   "INSERT INTO rt VALUES (1, 0, 10)");
        if (!w)
            qWarning("data: %s", statusText(w.status()));
        return bool(w);
    }

    sql::Database& db() { return *m_db; }

    // query() that gives up after `limit` instead of hanging the test: a request still running
    // then is a hang, reported by stopping the whole test process (the executor thread it holds
    // could not be joined).
    Result<sql::ExecResult> bounded(const sql::Session& session, std::string request,
                                    std::chrono::seconds limit = std::chrono::seconds(10)) {
        return boundedCall([&] { return m_db->query(session, request); }, request, limit);
    }

    // The same for any call of the database (querySingle, ...); `what` names it on a hang.
    template <typename F>
    Result<sql::ExecResult> boundedCall(F call, const std::string& what,
                                        std::chrono::seconds limit = std::chrono::seconds(10)) {
        auto future = std::async(std::launch::async, call);
        if (future.wait_for(limit) != std::future_status::ready)
            qFatal("request did not finish within %llds: %s", (long long)limit.count(),
                   what.c_str());
        return future.get();
    }

    // The actor and its tables still answer after a hostile request.
    bool stillServes() {
        auto r = bounded(writer, "ACTOR type1(a); SELECT count(*) FROM tab;"
                                 "SELECT count(*) FROM ft4 WHERE ft4 MATCH 'hello';"
                                 "SELECT count(*) FROM ft5 WHERE ft5 MATCH 'hello';"
                                 "SELECT count(*) FROM rt WHERE x0 >= 0");
        if (!r) {
            qWarning("after: %s", statusText(r.status()));
            return false;
        }
        for (const auto& st : r->statements) {
            if (st.rows.size() != 1 || st.rows[0][0] != sql::Value{std::int64_t(1)})
                return false;
        }
        return r->statements.size() == 4;
    }

private:
    QTemporaryDir m_dir;
    std::unique_ptr<sql::Database> m_db;
};

} // namespace troupe::test
