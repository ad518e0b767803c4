#include "sql/audit.h"

#include <cstdio>

#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "core/log.h"
#include "sql/database.h"

namespace troupe::sql {

namespace {

void appendJsonString(std::string& out, std::string_view text) {
    out.push_back('"');
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20 || u == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", unsigned(u));
            out += escaped;
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
}

std::string isoTime(std::chrono::system_clock::time_point time) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(time);
    const auto day = floor<days>(ms);
    const year_month_day date{day};
    const hh_mm_ss<milliseconds> clock{ms - day};
    char text[48];
    std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(date.year()),
                  unsigned(date.month()), unsigned(date.day()), int(clock.hours().count()),
                  int(clock.minutes().count()), int(clock.seconds().count()),
                  int(clock.subseconds().count()));
    return text;
}

// Opens `file` for appending, created 0600 (owner-only) when new.
std::FILE* openOwnerOnly(const std::filesystem::path& file) {
#ifdef _WIN32
    return _wfopen(file.c_str(), L"ab"); // the data directory's owner-only ACL is inherited
#else
    const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return nullptr;
    std::FILE* f = ::fdopen(fd, "a");
    if (!f)
        ::close(fd);
    return f;
#endif
}

} // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::filesystem::path& file, Now now) {
    std::FILE* f = nullptr;
    if (!file.empty()) {
        f = openOwnerOnly(file);
        if (!f)
            return Status(ErrorCode::IoError, "cannot open the audit log " + file.string());
    }
    return std::unique_ptr<AuditLog>(new AuditLog(f, std::move(now)));
}

AuditLog::AuditLog(std::FILE* file, Now now)
    : m_file(file), m_now(now ? std::move(now) : Now(&std::chrono::system_clock::now)) {}

AuditLog::~AuditLog() {
    if (m_file)
        std::fclose(m_file);
}

std::string AuditLog::line(std::chrono::system_clock::time_point time, const Session& session,
                           std::string_view action, std::string_view statement,
                           const Status& outcome) {
    std::string out = "{\"time\":";
    appendJsonString(out, isoTime(time));
    out += ",\"user\":";
    appendJsonString(out, session.user.empty() ? std::string_view("(node)") : session.user);
    out += ",\"peer\":";
    appendJsonString(out, session.peer.empty() ? std::string_view("local") : session.peer);
    out += ",\"action\":";
    appendJsonString(out, action);
    out += ",\"statement\":";
    appendJsonString(out, statement);
    out += ",\"outcome\":";
    appendJsonString(out, outcome.isOk() ? std::string("ok")
                                         : std::string(errorCodeName(outcome.code())) + ": " +
                                               outcome.message());
    out += "}";
    return out;
}

void AuditLog::record(const Session& session, std::string_view action, std::string_view statement,
                      const Status& outcome) {
    const std::string text = line(m_now(), session, action, statement, outcome);
    static const auto logger = log::get("audit");
    logger->info("{}", text);
    if (!m_file)
        return;
    std::lock_guard lock(m_mutex);
    if (std::fprintf(m_file, "%s\n", text.c_str()) < 0 || std::fflush(m_file) != 0)
        logger->error("writing the audit log failed");
}

} // namespace troupe::sql
