#pragma once

// Line input for the interactive shell: libedit (BSD-licensed, Debian libedit-dev) gives line
// editing and a history kept in ~/.troupe_history when the build finds it; otherwise (the
// Windows build) plain lines from stdin.

#include <optional>
#include <string>

namespace troupe::shell {

class LineInput {
public:
    LineInput();
    ~LineInput(); // saves the history
    LineInput(const LineInput&) = delete;
    LineInput& operator=(const LineInput&) = delete;

    // Shows `prompt`, reads one line. nullopt at the end of input (Ctrl+D).
    std::optional<std::string> read(const std::string& prompt);
    static bool editing();

private:
    std::string m_historyFile;
};

} // namespace troupe::shell
