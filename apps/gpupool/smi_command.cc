// Placeholder until the module behind `gpupool smi` lands; replaced by its owner.
#include <iostream>

#include "commands.h"

namespace gpupool::app {

void AddSmiCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("smi", "(not built yet)");
  cmd->callback([&exit_code] {
    std::cerr << "gpupool smi: not built yet\n";
    exit_code = 1;
  });
}

}  // namespace gpupool::app
