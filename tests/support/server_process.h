#pragma once

// A real troupe-server process for integration tests: started on free loopback ports with the
// given extra flags, ready once /ready answers 200 and the MySQL port greets; stopped with
// SIGTERM, which must end it cleanly (exit 0). Also runProgram() for the clients tests drive.
// The including target defines TROUPE_SERVER_BUILT (see server_ports.h).

#include <QElapsedTimer>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "http_test_client.h"
#include "integration/mysql/raw_mysql_client.h"
#include "support/server_ports.h"

namespace troupe::test {

// The output of one client run.
struct Run {
    int exitCode = -1;
    QString out;
    QString err;
    QString describe() const {
        return QString("exit %1\nstdout:\n%2\nstderr:\n%3").arg(exitCode).arg(out, err);
    }
};

// Runs a program to completion in `workDir` (if given), killed after `timeoutMs`, with `input`
// on its standard input (closed after it).
inline Run runProgram(const QString& program, const QStringList& args, const QByteArray& input = {},
                      int timeoutMs = 60000, const QString& workDir = {}) {
    QProcess p;
    if (!workDir.isEmpty())
        p.setWorkingDirectory(workDir);
    p.start(program, args);
    Run run;
    if (!p.waitForStarted(20000)) {
        run.err = "cannot start " + program;
        return run;
    }
    p.write(input);
    p.closeWriteChannel();
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        run.err = QString("timed out after %1 s: %2 %3\n")
                      .arg(timeoutMs / 1000)
                      .arg(program, args.join(' '));
    } else if (p.exitStatus() == QProcess::NormalExit) {
        run.exitCode = p.exitCode();
    }
    run.out = QString::fromUtf8(p.readAllStandardOutput());
    run.err += QString::fromUtf8(p.readAllStandardError());
    return run;
}

class ServerProcess {
public:
    // Starts the server with its data in `dir`/data and its output in `dir`/server.{out,err}.
    // Empty on success, else what went wrong with the server's log.
    std::string start(const QString& dir, const QStringList& extraArgs, int timeoutMs = 20000) {
        m_dir = dir;
        ports = freePorts();
        m_process.setStandardOutputFile(dir + "/server.out");
        m_process.setStandardErrorFile(dir + "/server.err");
        QStringList args{"--data-dir",         dir + "/data",
                         "--thrift-port",      QString::number(ports.thrift),
                         "--mysql-port",       QString::number(ports.mysql),
                         "--node-port",        QString::number(ports.node),
                         "--http-port",        QString::number(ports.http),
                         "--initial-map-size", "16MiB"};
        m_process.start(serverBinary(), args + extraArgs);
        if (!m_process.waitForStarted(timeoutMs))
            return "cannot start " + serverBinary().toStdString();
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            if (m_process.state() != QProcess::Running)
                return "the server exited: " + log();
            auto ready = HttpTestClient::get(ports.http, "/ready", std::chrono::seconds(1));
            if (ready && ready->status == 200) {
                RawMysqlClient probe(ports.mysql);
                auto greeting =
                    probe.connected() ? probe.readPacket(std::chrono::seconds(2)) : std::nullopt;
                if (greeting && !greeting->payload.empty() && greeting->payload[0] == 0x0a)
                    return {};
            }
            m_process.waitForFinished(50); // a short poll step; returns at once on exit
        }
        return "no MySQL greeting on port " + std::to_string(ports.mysql) + ": " + log();
    }

    // Runs `modify` in the child between fork and exec (e.g. setrlimit); before start().
    void setChildProcessModifier(const std::function<void()>& modify) {
        m_process.setChildProcessModifier(modify);
    }

    // SIGTERM; empty if the server stopped cleanly with exit code 0.
    std::string stop() {
        if (m_process.state() == QProcess::NotRunning)
            return m_process.exitCode() == 0 ? std::string() : "exited early: " + log();
        ::kill(static_cast<pid_t>(m_process.processId()), SIGTERM);
        if (!m_process.waitForFinished(10000)) {
            m_process.kill();
            m_process.waitForFinished();
            return "the server did not stop on SIGTERM";
        }
        if (m_process.exitStatus() != QProcess::NormalExit || m_process.exitCode() != 0)
            return "exit code " + std::to_string(m_process.exitCode()) + ": " + log();
        return {};
    }

    bool running() const { return m_process.state() == QProcess::Running; }
    std::string log() const {
        std::ifstream in((m_dir + "/server.err").toStdString(), std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    Ports ports;

private:
    QString m_dir;
    QProcess m_process;
};

} // namespace troupe::test
