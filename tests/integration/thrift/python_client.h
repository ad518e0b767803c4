#pragma once

// Python side of the Thrift integration tests: the client generated from troupe.thrift with the
// thrift compiler, and the Python examples of resources/docs/thrift.md, which the tests run as
// written. The including target defines TROUPE_THRIFT_COMPILER and TROUPE_SOURCE_DIR.

#include <QDir>
#include <QFile>
#include <QString>

#include <string>

#include "support/server_process.h"

namespace troupe::test {

// Generates the Python client (package `actordb`) into `dir`.
inline Run generatePythonClient(const QString& dir) {
    QDir().mkpath(dir);
    return runProgram(TROUPE_THRIFT_COMPILER,
                      {"--gen", "py", "-out", dir, TROUPE_SOURCE_DIR "/shared/idl/troupe.thrift"});
}

// The first ```python block of resources/docs/thrift.md after the line `heading` (from the top
// when empty); empty when the document or the block is missing.
inline QString thriftDocPython(const QString& heading = {}) {
    QFile doc(TROUPE_SOURCE_DIR "/resources/docs/thrift.md");
    if (!doc.open(QIODevice::ReadOnly))
        return {};
    const QString text = QString::fromUtf8(doc.readAll());
    const qsizetype section = heading.isEmpty() ? 0 : text.indexOf(heading);
    if (section < 0)
        return {};
    const QString fence = "```python\n";
    const qsizetype start = text.indexOf(fence, section);
    if (start < 0)
        return {};
    const qsizetype end = text.indexOf("```", start + fence.size());
    if (end < 0)
        return {};
    return text.mid(start + fence.size(), end - start - fence.size());
}

// Starts `server` in `dir` initialised like quickstart's node (resources/init.sql); empty on
// success, else why not.
inline std::string startQuickstartNode(ServerProcess& server, const QString& dir) {
    QDir().mkpath(dir);
    return server.start(dir, {"--init", TROUPE_SOURCE_DIR "/resources/init.sql"});
}

// Runs a Python example of the documentation as written, with only the Thrift port (33306) and
// the generated-code directory ("gen") replaced. An example that lacks either is an error.
inline Run runDocExample(QString code, const QString& gen, int thriftPort) {
    if (!code.contains("\"gen\"") || !code.contains("33306")) {
        Run missing;
        missing.err = "the example must name \"gen\" and port 33306:\n" + code;
        return missing;
    }
    code.replace("\"gen\"", "\"" + gen + "\"");
    code.replace("33306", QString::number(thriftPort));
    return runProgram("/usr/bin/python3", {"-c", code});
}

} // namespace troupe::test
