// Placeholder until the module behind `gpupool hw` lands; replaced by its owner.
#include <iostream>

#include "commands.h"

namespace gpupool::app {

void AddHwCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("hw", "(not built yet)");
  cmd->callback([&exit_code] {
    std::cerr << "gpupool hw: not built yet\n";
    exit_code = 1;
  });
}

}  // namespace gpupool::app
