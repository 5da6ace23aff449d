// Placeholder until the module behind `gpupool sim` lands; replaced by its owner.
#include <iostream>

#include "commands.h"

namespace gpupool::app {

void AddSimCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("sim", "(not built yet)");
  cmd->callback([&exit_code] {
    std::cerr << "gpupool sim: not built yet\n";
    exit_code = 1;
  });
}

}  // namespace gpupool::app
