// The nowrec command line: tokenize, encode, info, demo, index, catalog.
#include <iostream>

#include "cli/commands.hpp"
#include "nowrec/error.hpp"
#include "nowrec/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"nowrec: real-time user-interest capture with language models"};
  app.set_version_flag("--version", std::string("nowrec ") + nowrec::version_string);
  app.require_subcommand(1);
  int exit_status = 0;
  nowrec::cli::add_tokenize_command(app, exit_status);
  nowrec::cli::add_encode_command(app, exit_status);
  nowrec::cli::add_info_command(app, exit_status);
  nowrec::cli::add_demo_command(app, exit_status);
  nowrec::cli::add_index_command(app, exit_status);
  nowrec::cli::add_catalog_command(app, exit_status);
  nowrec::cli::add_replay_command(app, exit_status);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const nowrec::Error& error) {
    std::cerr << "nowrec: " << error.what() << '\n';
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "nowrec: " << error.what() << '\n';
    return 3;
  }
  return exit_status;
}
