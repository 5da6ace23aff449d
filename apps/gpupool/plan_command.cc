// Placeholder until the module behind `gpupool plan` lands; replaced by its owner.
#include <iostream>

#include "commands.h"

namespace gpupool::app {

void AddPlanCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("plan", "(not built yet)");
  cmd->callback([&exit_code] {
    std::cerr << "gpupool plan: not built yet\n";
    exit_code = 1;
  });
}

}  // namespace gpupool::app
