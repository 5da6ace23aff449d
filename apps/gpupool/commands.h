// Subcommand registration for the one `gpupool` binary. Each subcommand lives in its own
// <name>_command.cc, stays thin (parse flags, call a module, print), and reports its exit code
// through `exit_code`: 0 success, 2 bad input (file:line: column: what), 1 any other failure.
#pragma once

#include <CLI/CLI.hpp>

namespace gpupool::app {

void AddSimCommand(CLI::App& app, int& exit_code);     // sim_command.cc    (scheduling simulator)
void AddReplayCommand(CLI::App& sim, int& exit_code);  // replay_command.cc (sim replay)
void AddHwCommand(CLI::App& app, int& exit_code);      // hw_command.cc     (hardware catalog)
void AddPlanCommand(CLI::App& app, int& exit_code);    // plan_command.cc   (capacity planner)
void AddSmiCommand(CLI::App& app, int& exit_code);     // smi_command.cc    (NVML monitoring)
void AddDoctorCommand(CLI::App& app, int& exit_code);  // doctor_command.cc (environment checks)
// client_command.cc (the service's client): submit, jobs, job, cancel, logs, nodes, top, token,
// whoami.
void AddClientCommands(CLI::App& app, int& exit_code);
void AddServeCommand(CLI::App& app, int& exit_code);  // serve_command.cc (the service)

}  // namespace gpupool::app
