// Placeholder until the module behind `gpupool doctor` lands; replaced by its owner.
#include <iostream>

#include "commands.h"

namespace gpupool::app {

void AddDoctorCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("doctor", "(not built yet)");
  cmd->callback([&exit_code] {
    std::cerr << "gpupool doctor: not built yet\n";
    exit_code = 1;
  });
}

}  // namespace gpupool::app
