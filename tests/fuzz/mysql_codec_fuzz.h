#pragma once

// The modes of the MySQL codec fuzz target, one per area of daemon/mysql, each taking the input
// after the mode byte (its layout is described above its definition):
//   mysql_codec_fuzz.cpp           LLVMFuzzerTestOneInput, packet framing, wire primitives
//   mysql_codec_fuzz_commands.cpp  what a client sends: HandshakeResponse41, COM_CHANGE_USER,
//                                  COM_STMT_EXECUTE
//   mysql_codec_fuzz_replies.cpp   what a server sends: result sets; the client-side parsers

#include <string_view>

#include "fuzz_input.h"

namespace troupe::fuzz {

void fuzzHandshakeResponse(FuzzInput& in);
void fuzzChangeUser(FuzzInput& in);
void fuzzStmtExecute(FuzzInput& in);
void fuzzClientParsers(FuzzInput& in);
void fuzzRows(FuzzInput& in);

// A view that is empty or lies inside `outer` (a parser's result points into its input).
inline bool within(std::string_view inner, std::string_view outer) {
    return inner.empty() || (inner.data() >= outer.data() &&
                             inner.data() + inner.size() <= outer.data() + outer.size());
}

} // namespace troupe::fuzz
