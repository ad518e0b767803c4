// A client of libmariadb's prepared-statement API (mysql_stmt_*) against troupe-server: run by
// tst_mysql as `troupe-mysql-stmt-client PORT`. Prepares, binds every common parameter type
// (integers, double, text, blob, NULL, long data), executes several times, fetches typed columns
// through the binary protocol and closes. Prints what failed and exits 1, or prints "ok".

#include <mysql.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

MYSQL* g_db = nullptr;

[[noreturn]] void fail(const char* what, MYSQL_STMT* stmt = nullptr) {
    std::fprintf(stderr, "FAIL %s: %s\n", what, stmt ? mysql_stmt_error(stmt) : mysql_error(g_db));
    std::exit(1);
}

void check(bool ok, const char* what, MYSQL_STMT* stmt = nullptr) {
    if (!ok)
        fail(what, stmt);
}

MYSQL_STMT* prepare(const char* sql, unsigned long params) {
    MYSQL_STMT* stmt = mysql_stmt_init(g_db);
    check(stmt != nullptr, "stmt_init");
    check(mysql_stmt_prepare(stmt, sql, std::strlen(sql)) == 0, sql, stmt);
    if (mysql_stmt_param_count(stmt) != params) {
        std::fprintf(stderr, "FAIL %s: %lu parameters, expected %lu\n", sql,
                     mysql_stmt_param_count(stmt), params);
        std::exit(1);
    }
    return stmt;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    g_db = mysql_init(nullptr);
    check(mysql_real_connect(g_db, "127.0.0.1", "root", "rootpass", nullptr,
                             static_cast<unsigned>(std::atoi(argv[1])), nullptr, 0) != nullptr,
          "connect");
    check(mysql_query(g_db, "ACTOR type1(stmt) create;") == 0, "select actor");

    // INSERT with a text and an integer parameter, executed three times (one NULL), then once
    // with the text sent as long data in two chunks.
    MYSQL_STMT* insert = prepare("INSERT INTO tab (txt, i) VALUES (?, ?)", 2);
    char text[64];
    unsigned long textLength = 0;
    long long number = 0;
    my_bool numberIsNull = 0;
    MYSQL_BIND in[2];
    std::memset(in, 0, sizeof in);
    in[0].buffer_type = MYSQL_TYPE_STRING;
    in[0].buffer = text;
    in[0].length = &textLength;
    in[1].buffer_type = MYSQL_TYPE_LONGLONG;
    in[1].buffer = &number;
    in[1].is_null = &numberIsNull;
    check(mysql_stmt_bind_param(insert, in) == 0, "bind insert", insert);
    const char* words[] = {"alpha", "beta", "gamma"};
    for (int k = 0; k < 3; ++k) {
        textLength = std::strlen(words[k]);
        std::memcpy(text, words[k], textLength);
        number = 10 * (k + 1);
        numberIsNull = k == 2 ? 1 : 0;
        check(mysql_stmt_execute(insert) == 0, "execute insert", insert);
        if (mysql_stmt_affected_rows(insert) != 1 ||
            mysql_stmt_insert_id(insert) != my_ulonglong(k + 1)) {
            std::fprintf(stderr, "FAIL insert %d: affected %llu, id %llu\n", k,
                         (unsigned long long)mysql_stmt_affected_rows(insert),
                         (unsigned long long)mysql_stmt_insert_id(insert));
            return 1;
        }
    }
    check(mysql_stmt_send_long_data(insert, 0, "long ", 5) == 0, "long data 1", insert);
    check(mysql_stmt_send_long_data(insert, 0, "data", 4) == 0, "long data 2", insert);
    number = 40;
    numberIsNull = 0;
    check(mysql_stmt_execute(insert) == 0, "execute with long data", insert);
    check(mysql_stmt_close(insert) == 0, "close insert");

    // SELECT with an integer parameter: binary rows with LONGLONG, text and NULL columns.
    MYSQL_STMT* select = prepare("SELECT id, txt, i FROM tab WHERE id >= ? ORDER BY id", 1);
    if (mysql_stmt_field_count(select) != 3) {
        std::fprintf(stderr, "FAIL select: %u columns at prepare, expected 3\n",
                     mysql_stmt_field_count(select));
        return 1;
    }
    long long from = 2;
    MYSQL_BIND param;
    std::memset(&param, 0, sizeof param);
    param.buffer_type = MYSQL_TYPE_LONGLONG;
    param.buffer = &from;
    check(mysql_stmt_bind_param(select, &param) == 0, "bind select", select);
    check(mysql_stmt_execute(select) == 0, "execute select", select);
    long long id = 0, value = 0;
    char got[64];
    unsigned long gotLength = 0;
    my_bool valueIsNull = 0;
    MYSQL_BIND out[3];
    std::memset(out, 0, sizeof out);
    out[0].buffer_type = MYSQL_TYPE_LONGLONG;
    out[0].buffer = &id;
    out[1].buffer_type = MYSQL_TYPE_STRING;
    out[1].buffer = got;
    out[1].buffer_length = sizeof got;
    out[1].length = &gotLength;
    out[2].buffer_type = MYSQL_TYPE_LONGLONG;
    out[2].buffer = &value;
    out[2].is_null = &valueIsNull;
    check(mysql_stmt_bind_result(select, out) == 0, "bind result", select);
    check(mysql_stmt_store_result(select) == 0, "store result", select);
    const char* expected[] = {"beta", "gamma", "long data"};
    int rows = 0;
    while (mysql_stmt_fetch(select) == 0) {
        const std::string txt(got, gotLength);
        const my_bool nullExpected = rows == 1 ? 1 : 0;
        if (rows >= 3 || id != rows + 2 || txt != expected[rows] || valueIsNull != nullExpected ||
            (!nullExpected && value != 10 * (rows + 2))) {
            std::fprintf(stderr, "FAIL row %d: id %lld txt '%s' value %lld null %d\n", rows, id,
                         txt.c_str(), value, int(valueIsNull));
            return 1;
        }
        ++rows;
    }
    check(rows == 3, "three rows", select);
    // Re-execution with another parameter.
    from = 4;
    check(mysql_stmt_execute(select) == 0, "execute select again", select);
    check(mysql_stmt_store_result(select) == 0, "store result again", select);
    check(mysql_stmt_num_rows(select) == 1, "one row the second time", select);
    check(mysql_stmt_close(select) == 0, "close select");

    // A double parameter and a double column; a blob round trip.
    MYSQL_STMT* calc = prepare("SELECT ? * 2, ?", 2);
    double half = 1.25;
    char blob[3] = {'\0', '\x7f', '\xff'};
    unsigned long blobLength = 3;
    MYSQL_BIND calcIn[2];
    std::memset(calcIn, 0, sizeof calcIn);
    calcIn[0].buffer_type = MYSQL_TYPE_DOUBLE;
    calcIn[0].buffer = &half;
    calcIn[1].buffer_type = MYSQL_TYPE_BLOB;
    calcIn[1].buffer = blob;
    calcIn[1].length = &blobLength;
    check(mysql_stmt_bind_param(calc, calcIn) == 0, "bind calc", calc);
    check(mysql_stmt_execute(calc) == 0, "execute calc", calc);
    double twice = 0;
    char blobBack[8];
    unsigned long blobBackLength = 0;
    MYSQL_BIND calcOut[2];
    std::memset(calcOut, 0, sizeof calcOut);
    calcOut[0].buffer_type = MYSQL_TYPE_DOUBLE;
    calcOut[0].buffer = &twice;
    calcOut[1].buffer_type = MYSQL_TYPE_BLOB;
    calcOut[1].buffer = blobBack;
    calcOut[1].buffer_length = sizeof blobBack;
    calcOut[1].length = &blobBackLength;
    check(mysql_stmt_bind_result(calc, calcOut) == 0, "bind calc result", calc);
    check(mysql_stmt_fetch(calc) == 0, "fetch calc", calc);
    if (twice != 2.5 || blobBackLength != 3 || std::memcmp(blobBack, blob, 3) != 0) {
        std::fprintf(stderr, "FAIL calc: %g, blob length %lu\n", twice, blobBackLength);
        return 1;
    }
    check(mysql_stmt_close(calc) == 0, "close calc");

    // Errors: an unknown table at prepare, and the connection still works after it.
    MYSQL_STMT* bad = mysql_stmt_init(g_db);
    const char* badSql = "SELECT * FROM nosuch WHERE id = ?";
    if (mysql_stmt_prepare(bad, badSql, std::strlen(badSql)) == 0 ||
        mysql_stmt_errno(bad) != 1146) {
        std::fprintf(stderr, "FAIL unknown table: errno %u\n", mysql_stmt_errno(bad));
        return 1;
    }
    mysql_stmt_close(bad);
    check(mysql_query(g_db, "SELECT count(*) FROM tab") == 0, "query after errors");
    MYSQL_RES* res = mysql_store_result(g_db);
    MYSQL_ROW row = mysql_fetch_row(res);
    check(row && std::strcmp(row[0], "4") == 0, "four rows inserted");
    mysql_free_result(res);

    // Long data for a BLOB parameter arrives as a BLOB, bytes intact; long data over the
    // server's packet limit (16 MiB by default) fails the execute with 1153, and the statement
    // works again afterwards.
    check(mysql_query(g_db, "ACTOR type1(stmt_blob) create;") == 0, "select blob actor");
    MYSQL_STMT* blobInsert = prepare("INSERT INTO tab (txt) VALUES (?)", 1);
    MYSQL_BIND blobParam;
    std::memset(&blobParam, 0, sizeof blobParam);
    blobParam.buffer_type = MYSQL_TYPE_BLOB;
    check(mysql_stmt_bind_param(blobInsert, &blobParam) == 0, "bind blob", blobInsert);
    check(mysql_stmt_send_long_data(blobInsert, 0, "\x00\xff", 2) == 0, "blob data 1", blobInsert);
    check(mysql_stmt_send_long_data(blobInsert, 0, "\x01", 1) == 0, "blob data 2", blobInsert);
    check(mysql_stmt_execute(blobInsert) == 0, "execute blob insert", blobInsert);
    check(mysql_query(g_db, "SELECT typeof(txt), hex(txt) FROM tab") == 0, "read blob");
    res = mysql_store_result(g_db);
    row = mysql_fetch_row(res);
    check(row && std::strcmp(row[0], "blob") == 0 && std::strcmp(row[1], "00FF01") == 0,
          "long data for a BLOB parameter is a BLOB");
    mysql_free_result(res);
    const std::string chunk(1u << 20, 'z');
    for (int k = 0; k < 17; ++k)
        check(mysql_stmt_send_long_data(blobInsert, 0, chunk.data(), chunk.size()) == 0,
              "oversized long data", blobInsert);
    if (mysql_stmt_execute(blobInsert) == 0 || mysql_stmt_errno(blobInsert) != 1153) {
        std::fprintf(stderr, "FAIL long data over the limit: errno %u (%s)\n",
                     mysql_stmt_errno(blobInsert), mysql_stmt_error(blobInsert));
        return 1;
    }
    check(mysql_stmt_send_long_data(blobInsert, 0, "ok", 2) == 0, "long data again", blobInsert);
    check(mysql_stmt_execute(blobInsert) == 0, "execute after the oversized one", blobInsert);
    check(mysql_stmt_close(blobInsert) == 0, "close blob insert");

    // COM_CHANGE_USER: a wrong password is refused (the connection is closed), the right one
    // starts over in the database it names; statements prepared before are gone.
    check(mysql_change_user(g_db, "root", "rootpass", "type1.stmt") == 0, "change user");
    check(mysql_query(g_db, "SELECT count(*) FROM tab") == 0, "query after change user");
    res = mysql_store_result(g_db);
    row = mysql_fetch_row(res);
    check(row && std::strcmp(row[0], "4") == 0, "the database named by change user");
    mysql_free_result(res);
    if (mysql_change_user(g_db, "root", "wrong", nullptr) == 0 || mysql_errno(g_db) != 1045) {
        std::fprintf(stderr, "FAIL change user with a wrong password: errno %u\n",
                     mysql_errno(g_db));
        return 1;
    }
    mysql_close(g_db);
    std::printf("ok\n");
    return 0;
}
