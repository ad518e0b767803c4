#include "terminal.h"

#include <iostream>

#ifdef _WIN32
#include <io.h>
#include <windows.h>
#else
#include <termios.h>
#include <unistd.h>
#endif

namespace troupe::shell {

bool stdinIsTerminal() {
#ifdef _WIN32
    return _isatty(_fileno(stdin)) != 0;
#else
    return ::isatty(STDIN_FILENO) != 0;
#endif
}

std::optional<std::string> readPassword(const std::string& prompt) {
    std::cerr << prompt << std::flush;
    const bool terminal = stdinIsTerminal();
#ifdef _WIN32
    HANDLE input = GetStdHandle(STD_INPUT_HANDLE);
    DWORD mode = 0;
    if (terminal && GetConsoleMode(input, &mode))
        SetConsoleMode(input, mode & ~DWORD(ENABLE_ECHO_INPUT));
#else
    termios saved{};
    if (terminal && tcgetattr(STDIN_FILENO, &saved) == 0) {
        termios quiet = saved;
        quiet.c_lflag &= ~tcflag_t(ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
#endif
    std::string line;
    const bool got = static_cast<bool>(std::getline(std::cin, line));
#ifdef _WIN32
    if (terminal && mode != 0)
        SetConsoleMode(input, mode);
#else
    if (terminal)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
#endif
    if (terminal)
        std::cerr << "\n";
    if (!got)
        return std::nullopt;
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return line;
}

} // namespace troupe::shell
