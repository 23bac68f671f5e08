#include <csignal>
#include <cstdio>
#include <iostream>
#include <vector>

#include "cli/commands.hpp"

namespace pw::cli {

int fail(int status, const std::string& msg) {
    std::cerr << "piecewise: " << msg << "\n";
    return status;
}

}  // namespace pw::cli

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    // Line by line even into a pipe or file, so a log shows every line up to a crash or
    // a SIGKILL (a block-buffered stdout would lose its last few KiB).
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    CLI::App app{"Piecewise: a BitTorrent engine"};
    app.set_version_flag("--version", std::string("piecewise ") + PW_VERSION);
    app.require_subcommand(1);
    std::vector<pw::cli::Command> commands;
    commands.push_back(pw::cli::add_create(app));
    commands.push_back(pw::cli::add_info(app));
    commands.push_back(pw::cli::add_get(app));
    commands.push_back(pw::cli::add_seed(app));
    commands.push_back(pw::cli::add_verify(app));
    commands.push_back(pw::cli::add_tracker(app));
    commands.push_back(pw::cli::add_dht_node(app));
    commands.push_back(pw::cli::add_daemon(app));
    for (auto& c : commands) c.app->set_version_flag("--version", std::string("piecewise ") + PW_VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return 2;
    }
    for (auto& c : commands)
        if (c.app->parsed()) return c.run();
    return 2;
}
