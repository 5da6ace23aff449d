// gpupool: one binary, subcommands. See README.md and `gpupool --help`.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"
#include "common/data_dir.h"

namespace {

int Run(int argc, char** argv) {
  CLI::App app{
      "gpupool: GPU pooling, scheduling, capacity planning, hardware catalog, monitoring and "
      "simulation in one tool."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gpupool " GPUPOOL_VERSION " (git " GPUPOOL_GIT_REVISION ")");
  int exit_code = 0;
  gpupool::app::AddSimCommand(app, exit_code);
  gpupool::app::AddHwCommand(app, exit_code);
  gpupool::app::AddPlanCommand(app, exit_code);
  gpupool::app::AddSmiCommand(app, exit_code);
  gpupool::app::AddDoctorCommand(app, exit_code);
  gpupool::app::AddServeCommand(app, exit_code);
  gpupool::app::AddClientCommands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    // Help and version are successes; every other parse failure is bad input (exit 2).
    return code == 0 ? 0 : 2;
  }
  // A command that failed without a data directory also says where gpupool looked for one.
  if (exit_code != 0) {
    if (auto data = gpupool::FindDataDir(); !data) {
      std::cerr << "gpupool: " << data.error().message() << "\n";
    }
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  // A command that throws (a bug: errors are Status values) says so instead of aborting.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "gpupool: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "gpupool: internal error\n";
  }
  return 1;
}
