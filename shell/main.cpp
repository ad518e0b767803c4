// troupe: the command-line shell of TroupeDB (and ActorDB), over the Thrift API.
//
//   troupe [-u user] [-p[password]] [-f file.sql] [-q "sql"] [--use actordb|config|schema]
//          [--print table|csv|csvh|json] [--autocommit] [--tls] [--tls-ca FILE] [--unframed]
//          [host[:port]]
//
// -p alone asks for the password (without echo on a terminal); -pSECRET gives it, as with the
// mysql client. Batch mode (-q, -f, or stdin that is not a terminal) stops at the first error
// with exit status 1. The interactive mode buffers statements until `c`/`commit` (ActorDB's
// habit), or runs each line with --autocommit; see `h`.

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "admin_commands.h"
#include "client/client.h"
#include "format.h"
#include "line_input.h"
#include "script.h"
#include "terminal.h"

using namespace troupe;
using namespace troupe::shell;

namespace {

constexpr const char* kHelp =
    "Statements are buffered until `c` or `commit` (or run at once with --autocommit).\n"
    "  c, commit              send the buffered statements as one request\n"
    "  r, rollback            drop the buffered statements\n"
    "  use actordb|config|schema   where the next request goes (ACTOR ... requests, the\n"
    "                         USE config database, the schema)\n"
    "Admin commands (run at once; an admin user):\n"
    "  show cluster           this node, the nodes and groups, the shards\n"
    "  show metrics [like 'prefix%']\n"
    "  show actors <type> [like 'prefix%']   actor names\n"
    "  show actor <type>(<name>)   size, schema version and shard of an actor\n"
    "  show schema history [<type>]   schema versions and their statements\n"
    "  h, help                this text\n"
    "  q, quit, exit          leave\n";

struct Target {
    std::string host = "127.0.0.1";
    std::uint16_t port = 33306;
};

// host, host:port, [v6]:port, or :port.
std::optional<Target> parseTarget(const std::string& text) {
    Target t;
    if (text.empty())
        return t;
    std::string host = text;
    std::string port;
    if (text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos)
            return std::nullopt;
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':')
                return std::nullopt;
            port = text.substr(close + 2);
        }
    } else if (const auto colon = text.rfind(':');
               colon != std::string::npos && text.find(':') == colon) {
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (!host.empty())
        t.host = host;
    if (!port.empty()) {
        try {
            std::size_t used = 0;
            const int p = std::stoi(port, &used);
            if (used != port.size() || p < 1 || p > 65535)
                return std::nullopt;
            t.port = static_cast<std::uint16_t>(p);
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    return t;
}

class Shell {
public:
    Shell(client::Client& client, Format format) : m_client(client), m_format(format) {}

    // Runs one request and prints its result (or the error, on stderr). false on error.
    bool run(const Request& request) {
        Result<client::QueryResult> result = [&]() -> Result<client::QueryResult> {
            switch (request.mode) {
            case Mode::Config:
                return m_client.execConfig(request.sql);
            case Mode::Schema:
                return m_client.execSchema(request.sql);
            case Mode::Actordb:
                break;
            }
            return m_client.execSql(request.sql);
        }();
        if (!result) {
            std::cerr << "ERROR " << result.status().toString() << std::endl;
            return false;
        }
        std::cout << formatResult(*result, m_format) << std::flush;
        return true;
    }

    // An admin command line (admin_commands.h): runs it and sets `ok`; false when `line` is
    // not one.
    bool admin(std::string_view line, bool& ok) {
        auto parsed = parseAdminCommand(line);
        if (!parsed)
            return false;
        ok = false;
        if (!*parsed) {
            std::cerr << "ERROR " << parsed->status().toString() << std::endl;
            return true;
        }
        auto results = runAdminCommand(m_client, **parsed);
        if (!results) {
            std::cerr << "ERROR " << results.status().toString() << std::endl;
            return true;
        }
        for (const client::QueryResult& r : *results)
            std::cout << formatResult(r, m_format);
        std::cout << std::flush;
        ok = true;
        return true;
    }

    // A script from `in` (a file, or stdin that is not a terminal); stops at the first error.
    bool runScript(std::istream& in, Mode mode, bool autocommit) {
        ScriptReader reader(mode);
        std::string line;
        while (std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r')
                line.pop_back();
            if (bool ok = true; admin(line, ok)) {
                if (!ok)
                    return false;
                continue;
            }
            for (const Request& r : reader.line(line, autocommit))
                if (!run(r))
                    return false;
        }
        if (auto last = reader.finish())
            return run(*last);
        return true;
    }

    // Lines from a terminal: errors are printed and the session goes on.
    void interactive(Mode mode, bool autocommit) {
        ScriptReader reader(mode);
        LineInput input;
        std::cout << "troupe shell; `h` for help, `q` to quit." << std::endl;
        for (;;) {
            const std::string prompt = "troupe(" + std::string(modeName(reader.mode())) + ")" +
                                       (reader.buffering() ? "*" : "") + "> ";
            std::optional<std::string> line = input.read(prompt);
            if (!line)
                break;
            const std::string cmd = line->substr(0, line->find_last_not_of(" \t\r;") + 1);
            if (cmd == "q" || cmd == "quit" || cmd == "exit")
                break;
            if (cmd == "h" || cmd == "help") {
                std::cout << kHelp << std::flush;
                continue;
            }
            if (bool ok = true; admin(*line, ok))
                continue;
            for (const Request& r : reader.line(*line, autocommit))
                run(r);
        }
        if (reader.buffering())
            std::cout << "(uncommitted statements dropped)" << std::endl;
    }

private:
    client::Client& m_client;
    Format m_format;
};

// -p alone prompts, -pSECRET is the password (mysql's convention), so "-p host" never takes the
// host for a password.
std::vector<std::string> rewritePasswordFlag(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        if (i > 0 && a == "-p")
            a = "--ask-password";
        else if (i > 0 && a.size() > 2 && a.rfind("-p", 0) == 0 && a[2] != '-')
            a = "--password=" + a.substr(2);
        args.push_back(std::move(a));
    }
    return args;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app("troupe: the TroupeDB shell (ActorDB's Thrift API)", "troupe");
    std::string user = "root";
    std::string password;
    bool askPassword = false;
    std::string file;
    std::string query;
    std::string use = "actordb";
    std::string print = "table";
    bool autocommit = false;
    bool tls = false;
    std::string tlsCa;
    bool unframed = false;
    std::string target;
    app.add_option("-u,--user", user, "user name (root)");
    app.add_option("--password", password, "the password; -pSECRET works too");
    app.add_flag("--ask-password", askPassword, "ask for the password (what -p alone does)");
    app.add_option("-f,--file", file, "run an ActorDB-style script (- for stdin)");
    app.add_option("-q,--query", query, "run one request and exit");
    app.add_option("--use", use, "actordb | config | schema (actordb)");
    app.add_option("--print", print, "table | csv | csvh | json (table)");
    app.add_flag("--autocommit", autocommit, "run each statement line at once");
    app.add_flag("--tls", tls, "connect with TLS");
    app.add_option("--tls-ca", tlsCa, "PEM file of trusted certificates (checks the server)");
    app.add_flag("--unframed", unframed, "unframed (buffered) transport instead of framed");
    app.add_option("target", target, "host[:port] (127.0.0.1:33306)");
    std::vector<std::string> args = rewritePasswordFlag(argc, argv);
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);
        app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    const auto mode = parseMode(use);
    const auto format = parseFormat(print);
    const auto where = parseTarget(target);
    if (!mode || !format || !where) {
        std::cerr << "troupe: "
                  << (!mode     ? "--use takes actordb, config or schema"
                      : !format ? "--print takes table, csv, csvh or json"
                                : "bad host[:port] '" + target + "'")
                  << std::endl;
        return 2;
    }
    if (askPassword) {
        auto typed = readPassword("Password: ");
        if (!typed) {
            std::cerr << "troupe: no password given" << std::endl;
            return 2;
        }
        password = *typed;
    }

    client::Client c;
    client::ConnectOptions options;
    options.host = where->host;
    options.port = where->port;
    options.framed = !unframed;
    options.tls = tls || !tlsCa.empty();
    options.tlsCaFile = tlsCa;
    if (Status s = c.connect(options); !s) {
        std::cerr << "troupe: " << s.message() << std::endl;
        return 1;
    }
    if (Status s = c.loginScrambled(user, password); !s) {
        std::cerr << "troupe: login as '" << user << "' failed: " << s.message() << std::endl;
        return 1;
    }
    Shell shell(c, *format);
    if (!query.empty()) {
        if (bool ok = true; shell.admin(query, ok))
            return ok ? 0 : 1;
        return shell.run(Request{*mode, query}) ? 0 : 1;
    }
    if (!file.empty()) {
        if (file == "-")
            return shell.runScript(std::cin, *mode, autocommit) ? 0 : 1;
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::cerr << "troupe: cannot read " << file << std::endl;
            return 1;
        }
        return shell.runScript(in, *mode, autocommit) ? 0 : 1;
    }
    if (!stdinIsTerminal())
        return shell.runScript(std::cin, *mode, autocommit) ? 0 : 1;
    shell.interactive(*mode, autocommit);
    return 0;
}
