#pragma once

// ScenarioRunner: executes the commands of a data-driven Raft scenario (tests/raft/scenarios/
// *.txt, etcd's datadriven style) against a TestCluster and returns the trace each block
// prints. The command language is documented in resources/docs/raft.md ("Scenario files").
// Single-threaded; one runner per file.

#include <string>
#include <vector>

#include "unit/raft/test_cluster.h"

namespace troupe::raft::test {

class ScenarioRunner {
public:
    // Runs one block of commands; returns its output lines ("ok" when a block prints nothing).
    std::vector<std::string> run(const std::vector<std::string>& commands);

    static std::string formatMessage(const Message& m);
    static std::string formatEntry(const Entry& e);

private:
    void command(const std::vector<std::string>& args, std::vector<std::string>& out);
    void status(const std::vector<NodeId>& ids, std::vector<std::string>& out);
    void deliverAll(bool print, std::vector<std::string>& out);

    TestCluster m_cluster{baseConfig()};
    std::vector<std::string>* m_trace = nullptr;
};

} // namespace troupe::raft::test
