#pragma once

// Scanning SQL text: the character classes, case folding, quoted runs and comments that the
// request segmenter, the schema and config script parsers and the statement classifier share.
// Pure functions of their arguments (ASCII rules, no locale), so any thread may call them.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::sql {

bool isSpace(char c);
// A character of an SQL identifier or keyword: [A-Za-z0-9_$].
bool isWordChar(char c);
// An opening quote of a string or a quoted name: ' " `. `[` opens a quoted name too but has its
// own closing character; callers that accept it test for it themselves.
bool isQuote(char c);
// The end of the run of isWordChar characters starting at pos (pos itself when there is none).
std::size_t wordEnd(std::string_view text, std::size_t pos);

std::string upper(std::string_view s);
std::string lower(std::string_view s);
// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view s);
bool startsWith(std::string_view text, std::size_t pos, std::string_view prefix);

// End of the quoted run opening at pos (text[pos] is ', ", ` or [): the index just past its
// closing character. A doubled closing character is an escape, except in [...].
// std::string_view::npos when the run is unterminated.
std::size_t skipQuoted(std::string_view text, std::size_t pos);
// The text of a quoted run ('a''b', "x", `y`) without its quotes, doubled quotes collapsed.
std::string unquote(std::string_view quotedRun);

// Where a `--` comment ends: after its newline (the next statement text starts there) or at it
// (the newline still counts as whitespace, or as a line end, for the caller).
enum class LineCommentEnd { AfterNewline, AtNewline };
// End of the comment starting at pos, or pos when there is none. Unterminated comments run to
// the end of the text, as in SQLite.
std::size_t skipComment(std::string_view text, std::size_t pos, LineCommentEnd lineEnd);
// Skips whitespace and comments from pos.
std::size_t skipBlank(std::string_view text, std::size_t pos);

// A short excerpt of text in single quotes for error messages: at most 60 characters, "..."
// before the closing quote when cut.
std::string quotedExcerpt(std::string_view text);

// Follows the words of one statement to tell whether it is a CREATE [TEMP|TEMPORARY] TRIGGER
// and whether the scan is inside the trigger's BEGIN ... END body, where `;` does not end the
// statement. CASE ... END pairs in the body are counted so their END does not close it. One per
// statement being scanned: assign a fresh one when the next statement starts.
class TriggerTracker {
public:
    // The next keyword or identifier of the statement (outside quotes and comments), any case.
    void onWord(std::string_view word);
    bool isTrigger() const { return m_trigger; }
    bool inBody() const { return m_inBody; }
    // The END of a body has been read.
    bool bodyDone() const { return m_bodyDone; }

private:
    int m_words = 0;       // of the first three words seen
    bool m_create = false; // the first word is CREATE
    bool m_temp = false;   // the second is TEMP or TEMPORARY
    bool m_trigger = false;
    bool m_inBody = false;
    bool m_bodyDone = false;
    int m_caseDepth = 0;
};

} // namespace troupe::sql
