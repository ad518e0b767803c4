#include "http/status_endpoints.h"

namespace troupe::http {

namespace {

HttpResponse notAllowed() {
    HttpResponse r = HttpResponse::text(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
}

} // namespace

HttpServer::Handler makeStatusHandler(StatusSource source) {
    return [source = std::move(source)](const HttpRequest& request) -> HttpResponse {
        const std::string& path = request.path;
        if (path != "/health" && path != "/ready" && path != "/metrics")
            return HttpResponse::text(404, "not found\n");
        if (request.method != "GET" && request.method != "HEAD")
            return notAllowed();

        if (path == "/health")
            return HttpResponse::text(200, "ok\n");
        if (path == "/ready") {
            const bool ready = source.ready && source.ready();
            const std::string stalled = ready && source.stalled ? source.stalled() : std::string();
            if (ready && stalled.empty())
                return HttpResponse::text(200, "ready\n");
            HttpResponse r =
                HttpResponse::text(503, ready ? "stalled: " + stalled + "\n" : "not ready\n");
            r.headers.emplace_back("Retry-After", "1");
            return r;
        }
        HttpResponse r;
        r.contentType = kPrometheusContentType;
        r.body = source.metrics ? source.metrics() : std::string();
        return r;
    };
}

} // namespace troupe::http
