// gpupool: one binary, subcommands. See README.md and `gpupool --help`.
#include <CLI/CLI.hpp>

#include "commands.h"

int main(int argc, char** argv) {
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
  return exit_code;
}
