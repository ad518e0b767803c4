#pragma once

// ActorDB-style scripts for the `troupe` shell: the lines of an init file, of `-f file.sql` or of
// an interactive session become requests. Pure text processing: no I/O, one thread.
//
//   use config | use schema | use actordb   switch the mode of the next request (a `use` line
//                                           sends what is buffered first)
//   commit | c                              send the buffered statements as one request
//   rollback | r                            drop the buffered statements
//   -- comment, // comment, % comment       ignored (whole lines)
//   anything else                           buffered (with its newline); in actordb mode a `;`
//                                           is added before a line that starts a statement
//                                           (ACTOR, SELECT, INSERT, ..., {{) when the text
//                                           before it is complete: ActorDB's scripts put one
//                                           statement per line without `;`
//
// At the end of the input, whatever is still buffered is sent (finish()).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::shell {

enum class Mode { Actordb, Config, Schema };

std::string_view modeName(Mode mode);
// "actordb", "config", "schema" (any case); nullopt otherwise.
std::optional<Mode> parseMode(std::string_view name);

// What the shell does next.
struct Request {
    Mode mode = Mode::Actordb;
    std::string sql;
};

class ScriptReader {
public:
    explicit ScriptReader(Mode mode = Mode::Actordb) : m_mode(mode) {}

    // Feeds one line (without its newline); returns the requests it completes (a `commit`, or a
    // `use` after buffered statements). `autocommit`: every statement line is a request of its
    // own (the shell's --autocommit, and -q).
    std::vector<Request> line(std::string_view text, bool autocommit = false);
    // The end of the input: the buffered statements, if any.
    std::optional<Request> finish();
    // Drops the buffer (rollback).
    void clear() { m_buffer.clear(); }

    Mode mode() const { return m_mode; }
    bool buffering() const { return !m_buffer.empty(); }

private:
    std::optional<Request> take();

    Mode m_mode;
    std::string m_buffer;
};

} // namespace troupe::shell
