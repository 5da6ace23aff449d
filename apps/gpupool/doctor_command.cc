// `gpupool doctor`: is this machine ready to run GPU jobs, and if not, what to do. Thin: the
// checks are in src/discovery/doctor.h.
#include <iostream>

#include "commands.h"
#include "discovery/doctor.h"

namespace gpupool::app {

void AddDoctorCommand(CLI::App& app, int& exit_code) {
  struct Flags {
    bool json = false;
    std::string nvml_library;
    int python_timeout_s = 30;
  };
  static Flags flags;
  auto* cmd = app.add_subcommand(
      "doctor",
      "Check the NVIDIA driver, NVML, CUDA, cuDNN, PyTorch, WSL and Docker's GPU runtime; exit 0 "
      "only when GPU jobs can run");
  cmd->add_flag("--json", flags.json, "Print JSON");
  cmd->add_option("--nvml-library", flags.nvml_library,
                  "Path of libnvidia-ml.so.1 to load (default: $GPUPOOL_NVML_LIBRARY, then the "
                  "loader's search path)");
  cmd->add_option("--python-timeout", flags.python_timeout_s,
                  "Seconds to wait for python3 to import torch")
      ->check(CLI::PositiveNumber);
  cmd->callback([&exit_code] {
    discovery::SystemProbes probes({flags.nvml_library});
    discovery::DoctorOptions options;
    options.python_timeout_ms = flags.python_timeout_s * 1000;
    const auto checks = discovery::RunDoctor(probes, options);
    if (flags.json) {
      std::cout << discovery::DoctorJson(checks).dump(2) << "\n";
    } else {
      std::cout << discovery::FormatDoctor(checks);
    }
    exit_code = discovery::DoctorPassed(checks) ? 0 : 1;
  });
}

}  // namespace gpupool::app
