// Unit tests for daemon/http: the request parser (table of good and bad requests) and the
// status server on an ephemeral port with a fake readiness flag and a private metrics registry:
// routes, status codes, keep-alive and pipelining, size limits, timeouts, connection cap, stop.

#include <QTest>

#include "support/poll.h"

#include <atomic>
#include <thread>

#include "core/metrics.h"
#include "http/http_server.h"
#include "http/request_parser.h"
#include "http/status_endpoints.h"
#include "http_test_client.h"

using namespace troupe;
using namespace troupe::http;
using namespace std::chrono_literals;
using troupe::test::HttpTestClient;

Q_DECLARE_METATYPE(ParseResult::State)

namespace {

// An HttpServer on 127.0.0.1:<any port> with its io_context running on one thread.
class ServerFixture {
public:
    explicit ServerFixture(HttpServerOptions options = {}) {
        options.address = "127.0.0.1";
        options.port = 0;
        m_metrics.gauge("test_gauge", "a gauge of the test").set(7);
        StatusSource source;
        source.ready = [this] { return ready.load(); };
        source.metrics = [this] { return m_metrics.renderPrometheus(); };
        server = std::make_unique<HttpServer>(m_io, options, makeStatusHandler(source));
        startStatus = server->start();
        m_thread = std::thread([this] { m_io.run(); });
    }
    ~ServerFixture() {
        server->stopAndWait();
        m_work.reset();
        m_thread.join();
        server.reset(); // before m_io, which is declared after it
    }
    std::uint16_t port() const { return server->port(); }

    std::atomic<bool> ready{false};
    std::unique_ptr<HttpServer> server;
    Status startStatus;

private:
    MetricsRegistry m_metrics;
    asio::io_context m_io;
    asio::executor_work_guard<asio::io_context::executor_type> m_work{m_io.get_executor()};
    std::thread m_thread;
};

std::string get(std::string_view path, std::string_view extra = {}) {
    return "GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n" + std::string(extra) + "\r\n";
}

using troupe::test::pollUntil;

} // namespace

class TestHttp : public QObject {
    Q_OBJECT
private slots:
    // ---- parser -----------------------------------------------------------------------------

    void parser_data() {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<ParseResult::State>("state");
        QTest::addColumn<int>("status");
        using S = ParseResult::State;
        QTest::newRow("simple") << QByteArray("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
                                << S::Complete << 0;
        QTest::newRow("bare LF") << QByteArray("GET / HTTP/1.1\nHost: a\n\n") << S::Complete << 0;
        QTest::newRow("leading CRLF")
            << QByteArray("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") << S::Complete << 0;
        QTest::newRow("http/1.0 no host")
            << QByteArray("GET / HTTP/1.0\r\n\r\n") << S::Complete << 0;
        QTest::newRow("partial line") << QByteArray("GET /hea") << S::NeedMore << 0;
        QTest::newRow("partial head")
            << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n") << S::NeedMore << 0;
        QTest::newRow("partial body")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab")
            << S::NeedMore << 0;
        QTest::newRow("garbage") << QByteArray("hello\r\n\r\n") << S::Error << 400;
        QTest::newRow("two spaces")
            << QByteArray("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") << S::Error << 400;
        QTest::newRow("bad version")
            << QByteArray("GET / HTTX/1.1\r\nHost: a\r\n\r\n") << S::Error << 400;
        QTest::newRow("http/2") << QByteArray("GET / HTTP/2.0\r\nHost: a\r\n\r\n") << S::Error
                                << 505;
        QTest::newRow("no host") << QByteArray("GET / HTTP/1.1\r\n\r\n") << S::Error << 400;
        QTest::newRow("two hosts")
            << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") << S::Error << 400;
        QTest::newRow("obs-fold") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n x\r\n\r\n")
                                  << S::Error << 400;
        QTest::newRow("space before colon")
            << QByteArray("GET / HTTP/1.1\r\nHost : a\r\n\r\n") << S::Error << 400;
        QTest::newRow("no colon") << QByteArray("GET / HTTP/1.1\r\nHost a\r\n\r\n") << S::Error
                                  << 400;
        QTest::newRow("bad target")
            << QByteArray("GET health HTTP/1.1\r\nHost: a\r\n\r\n") << S::Error << 400;
        QTest::newRow("chunked")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
            << S::Error << 501;
        QTest::newRow("te and cl") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:"
                                                 " chunked\r\nContent-Length: 1\r\n\r\n")
                                   << S::Error << 400;
        QTest::newRow("bad length")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n") << S::Error
            << 400;
        QTest::newRow("conflicting lengths")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: "
                          "2\r\n\r\nab")
            << S::Error << 400;
        QTest::newRow("body too large")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9000\r\n\r\n") << S::Error
            << 413;
        QTest::newRow("head too large")
            << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nX: " + QByteArray(9000, 'x') + "\r\n\r\n")
            << S::Error << 431;
        QTest::newRow("head too large, incomplete")
            << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nX: " + QByteArray(9000, 'x')) << S::Error
            << 431;
        QTest::newRow("request line too long")
            << QByteArray("GET /" + QByteArray(9000, 'a')) << S::Error << 414;
        QTest::newRow("control char in value")
            << QByteArray("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n") << S::Error << 400;
    }

    void parser() {
        QFETCH(QByteArray, input);
        QFETCH(ParseResult::State, state);
        QFETCH(int, status);
        ParseResult r = parseRequest(std::string_view(input.constData(), input.size()));
        QCOMPARE(r.state, state);
        QCOMPARE(r.errorStatus, status);
        if (state == ParseResult::State::Complete)
            QCOMPARE(r.consumed, std::size_t(input.size()));
    }

    // Found by the http_request fuzzer: an over-long request line got 414 when its first
    // 8 KiB arrived before its end, but 431 when the whole head arrived in one read.
    void requestLineTooLongGotADifferentStatusWhenSentWhole() {
        const std::string line = "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n";
        const std::string head = line + "Host: a\r\n\r\n";
        ParseResult prefix = parseRequest(std::string_view(head).substr(0, 8500));
        ParseResult whole = parseRequest(head);
        QCOMPARE(prefix.errorStatus, 414);
        QCOMPARE(whole.errorStatus, 414);
        // A short request line with too many header bytes is 431 either way.
        const std::string big = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(9000, 'x');
        QCOMPARE(parseRequest(big).errorStatus, 431);
        QCOMPARE(parseRequest(big + "\r\n\r\n").errorStatus, 431);
    }

    void parserFields() {
        std::string in = "GET http://example.org/metrics?x=1 HTTP/1.1\r\nHOST: e\r\n"
                         "Connection: keep-alive, Close\r\nContent-Length: 3\r\n\r\nabcGET";
        ParseResult r = parseRequest(in);
        QCOMPARE(r.state, ParseResult::State::Complete);
        QCOMPARE(r.request.method, std::string("GET"));
        QCOMPARE(r.request.path, std::string("/metrics"));
        QCOMPARE(r.request.body, std::string("abc"));
        QCOMPARE(r.consumed, in.size() - 3);
        QVERIFY(!r.request.keepAlive);
        QCOMPARE(std::string(*r.request.header("host")), std::string("e"));

        ParseResult old = parseRequest("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        QVERIFY(old.request.keepAlive);
        ParseResult oldClose = parseRequest("GET / HTTP/1.0\r\n\r\n");
        QVERIFY(!oldClose.request.keepAlive);
    }

    // ---- routes -----------------------------------------------------------------------------

    void healthReadyMetrics() {
        ServerFixture f;
        QVERIFY2(f.startStatus.isOk(), f.startStatus.toString().c_str());
        QVERIFY(f.port() != 0);

        auto health = HttpTestClient::get(f.port(), "/health");
        QVERIFY(health);
        QCOMPARE(health->status, 200);
        QCOMPARE(health->body, std::string("ok\n"));

        auto notReady = HttpTestClient::get(f.port(), "/ready");
        QVERIFY(notReady);
        QCOMPARE(notReady->status, 503);
        f.ready = true;
        auto ready = HttpTestClient::get(f.port(), "/ready");
        QVERIFY(ready);
        QCOMPARE(ready->status, 200);

        auto metrics = HttpTestClient::get(f.port(), "/metrics");
        QVERIFY(metrics);
        QCOMPARE(metrics->status, 200);
        QCOMPARE(metrics->header("Content-Type"),
                 std::string("text/plain; version=0.0.4; charset=utf-8"));
        QVERIFY(metrics->body.find("# TYPE test_gauge gauge\ntest_gauge 7\n") != std::string::npos);
    }

    void unknownPathIs404() {
        ServerFixture f;
        auto r = HttpTestClient::get(f.port(), "/nope");
        QVERIFY(r);
        QCOMPARE(r->status, 404);
        auto query = HttpTestClient::get(f.port(), "/health?verbose=1");
        QVERIFY(query);
        QCOMPARE(query->status, 200);
    }

    void otherMethodsAre405_data() {
        QTest::addColumn<QByteArray>("method");
        QTest::newRow("POST") << QByteArray("POST");
        QTest::newRow("PUT") << QByteArray("PUT");
        QTest::newRow("DELETE") << QByteArray("DELETE");
        QTest::newRow("OPTIONS") << QByteArray("OPTIONS");
        QTest::newRow("lower-case get") << QByteArray("get");
    }

    void otherMethodsAre405() {
        QFETCH(QByteArray, method);
        ServerFixture f;
        HttpTestClient c(f.port());
        QVERIFY(c.send(method.toStdString() + " /health HTTP/1.1\r\nHost: x\r\n"
                                              "Content-Length: 2\r\n\r\nhi"));
        auto r = c.readResponse();
        QVERIFY(r);
        QCOMPARE(r->status, 405);
        QCOMPARE(r->header("Allow"), std::string("GET, HEAD"));
        // The connection survives: the body was consumed.
        QVERIFY(c.send(get("/health")));
        auto next = c.readResponse();
        QVERIFY(next);
        QCOMPARE(next->status, 200);
    }

    void headHasNoBody() {
        ServerFixture f;
        HttpTestClient c(f.port());
        QVERIFY(c.send("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"));
        auto r = c.readResponse(false);
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QCOMPARE(r->header("Content-Length"), std::string("3"));
        QVERIFY(c.send(get("/health")));
        auto next = c.readResponse();
        QVERIFY(next);
        QCOMPARE(next->body, std::string("ok\n")); // nothing of the HEAD body leaked in between
    }

    // ---- connection handling ----------------------------------------------------------------

    void badRequestIs400AndCloses() {
        ServerFixture f;
        HttpTestClient c(f.port());
        QVERIFY(c.send("this is not http\r\n\r\n"));
        auto r = c.readResponse();
        QVERIFY(r);
        QCOMPARE(r->status, 400);
        QCOMPARE(r->header("Connection"), std::string("close"));
        QVERIFY(c.waitClosed());
    }

    void oversizedRequestIsRejected() {
        ServerFixture f;
        HttpTestClient c(f.port());
        std::string big =
            "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n";
        QVERIFY(c.send(big));
        auto r = c.readResponse();
        QVERIFY(r); // the answer arrives despite the unread rest: lingering close
        QCOMPARE(r->status, 431);
        QVERIFY(c.waitClosed());

        HttpTestClient body(f.port());
        QVERIFY(body.send("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                          std::string(30000, 'z')));
        auto tooLarge = body.readResponse();
        QVERIFY(tooLarge);
        QCOMPARE(tooLarge->status, 413);
        QVERIFY(body.waitClosed());
    }

    void keepAliveAndPipelining() {
        ServerFixture f;
        HttpTestClient c(f.port());
        QVERIFY(c.send(get("/health")));
        auto first = c.readResponse();
        QVERIFY(first);
        QCOMPARE(first->header("Connection"), std::string("keep-alive"));
        QVERIFY(c.send(get("/ready") + get("/nope") + get("/health", "Connection: close\r\n")));
        auto a = c.readResponse();
        auto b = c.readResponse();
        auto d = c.readResponse();
        QVERIFY(a && b && d);
        QCOMPARE(a->status, 503);
        QCOMPARE(b->status, 404);
        QCOMPARE(d->status, 200);
        QCOMPARE(d->header("Connection"), std::string("close"));
        QVERIFY(c.waitClosed());
    }

    void http10ClosesByDefault() {
        ServerFixture f;
        HttpTestClient c(f.port());
        QVERIFY(c.send("GET /health HTTP/1.0\r\n\r\n"));
        auto r = c.readResponse();
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QVERIFY(c.waitClosed());
    }

    void idleConnectionTimesOut() {
        HttpServerOptions o;
        o.idleTimeout = 200ms;
        ServerFixture f(o);
        HttpTestClient c(f.port());
        QVERIFY(c.send(get("/health")));
        QVERIFY(c.readResponse());
        QVERIFY(c.waitClosed(5s)); // keep-alive, then nothing
    }

    // A connection that never sends a request is closed after the request timeout (the
    // daemon's network.handshake_timeout), not the longer keep-alive idle timeout.
    void silentConnectionTimesOut() {
        HttpServerOptions o;
        o.requestTimeout = 200ms;
        o.idleTimeout = 60s;
        ServerFixture f(o);
        HttpTestClient c(f.port());
        QVERIFY(c.connected());
        QVERIFY(c.waitClosed(5s));
    }

    void slowRequestTimesOut() {
        HttpServerOptions o;
        o.requestTimeout = 200ms;
        ServerFixture f(o);
        HttpTestClient c(f.port());
        QVERIFY(c.send("GET /health HTTP/1.1\r\nHo"));
        QVERIFY(c.waitClosed(5s));
    }

    // At the cap a new connection evicts the one that has waited longest for a request, so
    // idle or slow clients cannot lock /health out.
    void connectionCapEvictsTheLongestWaiting() {
        HttpServerOptions o;
        o.maxConnections = 2;
        ServerFixture f(o);
        HttpTestClient a(f.port());
        QVERIFY(pollUntil([&] { return f.server->connectionCount() == 1; }));
        HttpTestClient b(f.port());
        QVERIFY(a.connected() && b.connected());
        QVERIFY(pollUntil([&] { return f.server->connectionCount() == 2; }));
        HttpTestClient c(f.port());
        QVERIFY(c.send(get("/health")));
        auto r = c.readResponse();
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QVERIFY(a.waitClosed());
        QVERIFY(b.send(get("/health")));
        QVERIFY(b.readResponse());
    }

    void stopClosesIdleConnectionsAndRefusesNewOnes() {
        auto f = std::make_unique<ServerFixture>();
        std::uint16_t port = f->port();
        HttpTestClient idle(port);
        QVERIFY(idle.connected());
        QVERIFY(pollUntil([&] { return f->server->connectionCount() == 1; }));
        HttpTestClient partial(port);
        QVERIFY(partial.send("GET /health HTTP/1.1\r\n"));
        QVERIFY(pollUntil([&] { return f->server->connectionCount() == 2; }));

        auto started = std::chrono::steady_clock::now();
        f->server->stopAndWait();
        QVERIFY(std::chrono::steady_clock::now() - started < 2s);
        QCOMPARE(f->server->connectionCount(), std::size_t(0));
        QVERIFY(idle.waitClosed());
        QVERIFY(partial.waitClosed());
        HttpTestClient late(port);
        QVERIFY(!late.connected() || late.waitClosed());
        f.reset(); // stopAndWait again in the destructor: idempotent
    }

    void portInUseIsReported() {
        ServerFixture first;
        asio::io_context io;
        HttpServerOptions o;
        o.port = first.port();
        HttpServer second(io, o, makeStatusHandler({}));
        Status s = second.start();
        QVERIFY(!s.isOk());
        QVERIFY2(s.message().find("cannot listen on 127.0.0.1:" + std::to_string(first.port())) !=
                     std::string::npos,
                 s.message().c_str());
    }
};

QTEST_APPLESS_MAIN(TestHttp)
#include "tst_http.moc"
