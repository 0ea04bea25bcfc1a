// The nowrec command's subcommands: each registers its options and runs.
#pragma once

#include <CLI/CLI.hpp>

namespace nowrec::cli {

// Each returns the exit status through the callback it installs; see main.cpp.
void add_tokenize_command(CLI::App& app, int& exit_status);
void add_info_command(CLI::App& app, int& exit_status);
void add_encode_command(CLI::App& app, int& exit_status);
void add_demo_command(CLI::App& app, int& exit_status);
void add_index_command(CLI::App& app, int& exit_status);
void add_catalog_command(CLI::App& app, int& exit_status);
void add_replay_command(CLI::App& app, int& exit_status);

}  // namespace nowrec::cli
