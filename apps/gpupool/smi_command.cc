// `gpupool smi`: GPUs as NVML reports them (table, --json, --prometheus, --watch), `smi topo` (the
// GPU link matrix) and `smi --inventory FILE` (the node inventory the service reads). Thin: the
// work is in src/discovery.
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <string>
#include <thread>

#include "commands.h"
#include "discovery/node_inventory.h"
#include "discovery/nvml_discovery.h"
#include "discovery/nvml_library.h"
#include "discovery/prometheus_exporter.h"
#include "discovery/smi_report.h"

namespace gpupool::app {
namespace {

namespace d = gpupool::discovery;

struct SmiFlags {
  bool json = false;
  bool prometheus = false;
  double watch_seconds = 0;
  int count = 0;  // with --watch: 0 = until interrupted
  std::string inventory;
  std::string nvml_library;
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
};

int Fail(const Status& status) {
  std::cerr << "gpupool smi: " << status.message() << "\n";
  return status.ExitCode();
}

// Like nvidia-smi's "No devices were found": a driver without GPUs is a failure for a GPU tool.
int NoGpus(const d::DriverInfo& driver) {
  return Fail(Status::Unavailable(
      "NVML (driver " + driver.driver_version +
      ") sees no GPU. Check that the GPU is on the bus (`lspci | grep -i nvidia`) and, in a "
      "container, that it was started with GPU access (`--gpus all`)."));
}

std::string Now() {
  const std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

int RunSmi(const SmiFlags& f) {
  auto nvml = d::NvmlLibrary::Open({f.nvml_library});
  if (!nvml) return Fail(nvml.error());
  d::DiscoveryOptions options;
  options.host = {f.proc_root, f.sys_root};

  if (!f.inventory.empty()) {
    auto inv = d::DiscoverNode(**nvml, options);
    if (!inv) return Fail(inv.error());
    if (Status s = d::WriteInventoryFile(*inv, f.inventory); !s.ok()) return Fail(s);
    const cluster::NodeSpec spec = d::ToNodeSpec(*inv);
    std::cout << "wrote " << f.inventory << ": node " << spec.name << ", " << spec.gpus.size()
              << " usable GPU(s) of " << inv->gpus.size() << ", " << spec.nvlink_islands.size()
              << " NVLink island(s), " << spec.cpu_milli / 1000 << " CPUs, " << spec.memory_mib
              << " MiB, " << spec.nics.size() << " RDMA NIC(s)\n";
    return 0;
  }

  const bool watching = f.watch_seconds > 0;
  const bool clear = watching && !f.json && !f.prometheus && isatty(STDOUT_FILENO) != 0;
  for (int round = 1;; ++round) {
    auto view = d::ReadSmiView(**nvml, /*with_topology=*/false, options);
    if (!view) return Fail(view.error());
    if (view->devices.empty()) return NoGpus(view->driver);
    if (clear) std::cout << "\033[H\033[2J";
    if (f.json) {
      std::cout << d::SmiJson(*view).dump(watching ? -1 : 2) << "\n";
    } else if (f.prometheus) {
      std::cout << d::FormatPrometheus(view->samples);
    } else {
      if (watching) {
        std::cout << "Every " << f.watch_seconds << "s: gpupool smi   " << Now() << "\n";
      }
      std::cout << d::FormatSmiTable(*view);
    }
    std::cout.flush();
    if (!watching || (f.count > 0 && round >= f.count)) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(f.watch_seconds));
  }
  return 0;
}

int RunTopo(const SmiFlags& f) {
  auto nvml = d::NvmlLibrary::Open({f.nvml_library});
  if (!nvml) return Fail(nvml.error());
  d::DiscoveryOptions options;
  options.host = {f.proc_root, f.sys_root};
  auto view = d::ReadSmiView(**nvml, /*with_topology=*/true, options);
  if (!view) return Fail(view.error());
  if (view->devices.empty()) return NoGpus(view->driver);
  if (f.json) {
    const nlohmann::ordered_json j = d::SmiJson(*view);
    std::cout << nlohmann::ordered_json{{"topology", j["topology"]},
                                        {"nvlink_islands", j["nvlink_islands"]}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << d::FormatTopologyMatrix(*view);
  }
  return 0;
}

void AddCommonFlags(CLI::App* cmd, SmiFlags& f) {
  cmd->add_option("--nvml-library", f.nvml_library,
                  "Path of libnvidia-ml.so.1 to load (default: $GPUPOOL_NVML_LIBRARY, then the "
                  "loader's search path)");
  cmd->add_option("--proc-root", f.proc_root, "Root of procfs (for tests)")->group("");
  cmd->add_option("--sys-root", f.sys_root, "Root of sysfs (for tests)")->group("");
}

}  // namespace

void AddSmiCommand(CLI::App& app, int& exit_code) {
  static SmiFlags flags;
  auto* cmd = app.add_subcommand(
      "smi", "GPUs as NVML reports them: a table like nvidia-smi's, JSON, Prometheus metrics");
  cmd->add_flag("--json", flags.json, "Print JSON instead of the table");
  cmd->add_flag("--prometheus", flags.prometheus,
                "Print the readings in Prometheus text format (what /metrics serves)");
  cmd->add_option("--watch", flags.watch_seconds, "Refresh every SECONDS")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--count", flags.count, "With --watch: stop after N refreshes (0 = never)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--inventory", flags.inventory,
                  "Discover the node (GPUs, topology, CPUs, memory, RDMA NICs) and write its "
                  "inventory file (JSON) to FILE");
  AddCommonFlags(cmd, flags);
  auto* exclusive_json = cmd->get_option("--json");
  exclusive_json->excludes(cmd->get_option("--prometheus"));

  auto* topo = cmd->add_subcommand("topo", "The GPU link matrix, like `nvidia-smi topo -m`");
  topo->add_flag("--json", flags.json, "Print JSON instead of the matrix");
  AddCommonFlags(topo, flags);
  topo->callback([&exit_code] { exit_code = RunTopo(flags); });

  cmd->callback([topo, &exit_code] {
    if (topo->parsed()) return;
    exit_code = RunSmi(flags);
  });
}

}  // namespace gpupool::app
