#pragma once

// The few terminal facts the `troupe` shell needs, for Linux and Windows alike.

#include <optional>
#include <string>

namespace troupe::shell {

bool stdinIsTerminal();
// Prints `prompt` to stderr and reads a line from stdin without echoing it when stdin is a
// terminal. nullopt at the end of input.
std::optional<std::string> readPassword(const std::string& prompt);

} // namespace troupe::shell
