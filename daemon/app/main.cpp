// troupe-server: one TroupeDB node. Reads flags and troupe.conf, sets up logging, installs the
// shutdown handlers and runs the Server until SIGTERM/SIGINT (or Ctrl+C on Windows).
//
// Exit codes: 0 clean shutdown (also after --help, --version, --check-config), 1 failure at run
// time (port in use, data directory locked or unusable, storage error), 2 bad flags or config.
//
// `troupe-server verify --data-dir DIR` checks every stored record offline instead
// (storage/verify.h): 0 clean, 1 corruption found or unreadable, 2 bad command line.

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/platform/platform.h"
#include "app/server.h"
#include "core/log.h"
#include "storage/verify.h"

int main(int argc, char** argv) {
    using namespace troupe;
    try {
        std::vector<std::string> args(argv, argv + argc);
        if (args.size() >= 2 && args[1] == "verify")
            return storage::runVerifyCommandLine(args, std::cout, std::cerr);
        app::CommandLine command = app::parseCommandLine(args);
        if (command.action == app::CommandLine::Action::Exit) {
            (command.exitCode == 0 ? std::cout : std::cerr) << command.message << std::flush;
            return command.exitCode;
        }
        const app::Config& config = command.config;
        app::platform::restrictNewFilesToOwner(); // before the log file is created
        if (Status s = log::setup(config.logLevel, config.logFile.string()); !s) {
            std::cerr << "troupe-server: " << s.message() << std::endl;
            return 1;
        }

        app::Server server(config);
        auto watcher = app::platform::ShutdownWatcher::install(
            [&server](std::string_view reason) { server.requestStop(reason); });
        if (!watcher) {
            std::cerr << "troupe-server: " << watcher.status().message() << std::endl;
            return 1;
        }
        int code = server.run();
        watcher->reset(); // restores default signal handling
        return code;
    } catch (const std::exception& e) {
        std::cerr << "troupe-server: fatal: " << e.what() << std::endl;
        return 1;
    }
}
