#include "line_input.h"

#include <cstdlib>
#include <iostream>

#ifdef TROUPE_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

namespace troupe::shell {

LineInput::LineInput() {
#ifdef TROUPE_HAVE_LIBEDIT
    if (const char* home = std::getenv("HOME"); home && *home) {
        m_historyFile = std::string(home) + "/.troupe_history";
        using_history();
        read_history(m_historyFile.c_str());
    }
#endif
}

LineInput::~LineInput() {
#ifdef TROUPE_HAVE_LIBEDIT
    if (!m_historyFile.empty()) {
        stifle_history(1000);
        write_history(m_historyFile.c_str());
    }
#endif
}

bool LineInput::editing() {
#ifdef TROUPE_HAVE_LIBEDIT
    return true;
#else
    return false;
#endif
}

std::optional<std::string> LineInput::read(const std::string& prompt) {
#ifdef TROUPE_HAVE_LIBEDIT
    char* line = readline(prompt.c_str());
    if (!line)
        return std::nullopt;
    std::string out(line);
    if (out.find_first_not_of(" \t") != std::string::npos)
        add_history(line);
    std::free(line);
    return out;
#else
    std::cout << prompt << std::flush;
    std::string line;
    if (!std::getline(std::cin, line))
        return std::nullopt;
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return line;
#endif
}

} // namespace troupe::shell
