// Data-driven Raft scenarios (etcd's datadriven style): every tests/raft/scenarios/*.txt is a
// sequence of blocks — command lines, a line "----", the expected trace, a blank line — run
// in order against one deterministic in-process cluster (ScenarioRunner). With TROUPE_REWRITE=1
// the files are rewritten with the actual traces instead of compared (review the diff!).

#include <QTest>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "scenario_runner.h"

using namespace troupe::raft::test;

namespace {

struct Block {
    std::vector<std::string> commands; // as written, comments included
    std::vector<std::string> expected;
};

struct ScenarioFile {
    std::vector<Block> blocks;
    std::vector<std::string> trailer; // lines after the last block
};

ScenarioFile parse(const std::string& path) {
    std::ifstream in(path);
    ScenarioFile file;
    std::vector<std::string> pending;
    std::string line;
    bool inExpected = false;
    Block current;
    while (std::getline(in, line)) {
        if (inExpected) {
            if (line.empty()) {
                file.blocks.push_back(std::move(current));
                current = Block();
                inExpected = false;
            } else {
                current.expected.push_back(line);
            }
            continue;
        }
        if (line == "----") {
            current.commands = std::move(pending);
            pending.clear();
            inExpected = true;
            continue;
        }
        pending.push_back(line);
    }
    if (inExpected)
        file.blocks.push_back(std::move(current));
    file.trailer = std::move(pending);
    return file;
}

void write(const std::string& path, const ScenarioFile& file) {
    std::ofstream out(path, std::ios::trunc);
    for (const Block& b : file.blocks) {
        for (const auto& c : b.commands)
            out << c << "\n";
        out << "----\n";
        for (const auto& e : b.expected)
            out << e << "\n";
        out << "\n";
    }
    for (const auto& t : file.trailer)
        out << t << "\n";
}

std::string joinLines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += l + "\n";
    return out;
}

} // namespace

class TestRaftScenarios : public QObject {
    Q_OBJECT
private slots:
    void scenario_data();
    void scenario();
};

void TestRaftScenarios::scenario_data() {
    QTest::addColumn<QString>("path");
    std::vector<std::string> paths;
    for (const auto& e : std::filesystem::directory_iterator(TROUPE_SCENARIO_DIR))
        if (e.path().extension() == ".txt" && e.path().filename() != "CMakeLists.txt")
            paths.push_back(e.path().string());
    std::sort(paths.begin(), paths.end());
    QVERIFY(paths.size() >= 9);
    for (const auto& p : paths)
        QTest::newRow(std::filesystem::path(p).filename().string().c_str())
            << QString::fromStdString(p);
}

void TestRaftScenarios::scenario() {
    QFETCH(QString, path);
    std::string file = path.toStdString();
    ScenarioFile parsed = parse(file);
    QVERIFY2(!parsed.blocks.empty(), "no blocks");
    const char* rewrite = std::getenv("TROUPE_REWRITE");
    bool rewriting = rewrite && std::string(rewrite) == "1";
    ScenarioRunner runner;
    for (std::size_t i = 0; i < parsed.blocks.size(); ++i) {
        Block& b = parsed.blocks[i];
        std::vector<std::string> actual = runner.run(b.commands);
        if (rewriting) {
            b.expected = actual;
            continue;
        }
        if (actual != b.expected) {
            std::string msg = "block " + std::to_string(i + 1) + ":\n" + joinLines(b.commands) +
                              "---- expected\n" + joinLines(b.expected) + "---- actual\n" +
                              joinLines(actual);
            QFAIL(msg.c_str());
        }
    }
    if (rewriting)
        write(file, parsed);
}

QTEST_APPLESS_MAIN(TestRaftScenarios)
#include "tst_raft_scenarios.moc"
