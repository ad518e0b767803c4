#pragma once

// The routes of the status server (DESIGN §8): GET /health, GET /ready, GET /metrics.
// /health answers 200 while the process runs; /ready 200 once the node serves requests and 503
// before that, while it shuts down, and while it is stalled (the storage writer or an executor
// thread has had work waiting and made no progress for stall_timeout; core/heartbeat.h); /metrics
// the Prometheus text exposition format.
// Unknown paths get 404, other methods on these paths 405 (HEAD is served like GET, as
// HTTP/1.1 asks of every server).
//
// The returned handler is a value; it calls the functions on the HTTP server's strand, so
// they must be thread-safe and quick.

#include <functional>
#include <string>

#include "http/http_server.h"

namespace troupe::http {

struct StatusSource {
    std::function<bool()> ready;          // the node is open and serving
    std::function<std::string()> stalled; // why the node cannot serve now; empty when it can
    std::function<std::string()> metrics; // Prometheus text, e.g. renderPrometheus()
};

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

HttpServer::Handler makeStatusHandler(StatusSource source);

} // namespace troupe::http
