// `gpupool sim`: the scheduling simulator. `sim fill` runs the openb fill experiment
// (src/sim/fill_experiment.h) over policies x seeds and prints the comparison table.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "common/data_dir.h"
#include "placement/policy_registry.h"
#include "sim/constrained_variant.h"
#include "sim/fill_experiment.h"
#include "sim/fill_report.h"

namespace gpupool::app {
namespace {

struct FillArgs {
  std::string nodes;
  std::string pods;
  std::string policy = "all";
  std::string seeds = "42-51";
  double tune = 1.3;
  int batch = 0;
  std::string workload = "trace";
  int threads = 0;
  std::string out;
  bool json = false;
  // A constrained variant made on the fly (sim/constrained_variant.h); share < 0: none.
  double constrain = -1;
  std::uint64_t draw = 1;
  double second_model = sim::ConstrainOptions{}.second_model_share;
  bool uniform_models = false;
};

// Applies --constrain/--draw/--second-model to a loaded input (nothing when --constrain is unset).
Result<sim::FillInput> MaybeConstrain(sim::FillInput input, double share, std::uint64_t draw,
                                      double second_model, bool uniform_models) {
  if (share < 0) return input;
  auto v = sim::ConstrainVariant(input,
                                 sim::ConstrainOptions{share, draw, second_model, uniform_models});
  if (!v) return Error(Status::InvalidArgument("--constrain: " + v.error().message()));
  return v;
}

// "42-51", "42,45,100-102".
Result<std::vector<std::uint64_t>> ParseSeeds(const std::string& text) {
  std::vector<std::uint64_t> seeds;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string part = text.substr(start, comma - start);
    try {
      std::size_t used = 0;
      const std::size_t dash = part.find('-');
      if (dash == std::string::npos) {
        seeds.push_back(std::stoull(part, &used));
        if (used != part.size()) throw std::invalid_argument(part);
      } else {
        const auto lo = std::stoull(part.substr(0, dash));
        const auto hi = std::stoull(part.substr(dash + 1));
        if (hi < lo || hi - lo > 100000) throw std::invalid_argument(part);
        for (auto s = lo; s <= hi; ++s) seeds.push_back(s);
      }
    } catch (const std::exception&) {
      return Error(
          Status::InvalidArgument("--seeds: '" + part + "' is not a seed or a range like 42-51"));
    }
    start = comma + 1;
  }
  if (seeds.empty()) return Error(Status::InvalidArgument("--seeds: no seed given"));
  return seeds;
}

Result<std::vector<std::string>> ParsePolicies(const std::string& text) {
  if (text == "all") return placement::PolicyNames();
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string name = text.substr(start, comma - start);
    // The registry is the one place that knows the names (and words the error).
    if (auto p = placement::MakePolicy(name, placement::PolicyContext{}); !p) {
      return Error(Status::NotFound("--policy: " + p.error().message() + ", all"));
    }
    out.push_back(name);
    start = comma + 1;
  }
  return out;
}

int RunFillCommand(const FillArgs& a) {
  auto fail = [](const Status& s) {
    std::cerr << "gpupool sim fill: " << s.message() << "\n";
    return s.ExitCode();
  };
  auto seeds = ParseSeeds(a.seeds);
  if (!seeds) return fail(seeds.error());
  auto policies = ParsePolicies(a.policy);
  if (!policies) return fail(policies.error());
  if (a.tune < 1.0 || a.tune > 3.0)
    return fail(Status::InvalidArgument("--tune: must be between 1.0 and 3.0"));
  if (a.batch < 0 || a.batch > 100000)
    return fail(
        Status::InvalidArgument("--batch: must be between 1 and 100000 (0: each policy's own)"));
  if (a.workload != "trace" && a.workload != "learned") {
    return fail(
        Status::InvalidArgument("--workload: '" + a.workload + "' is not trace or learned"));
  }
  const auto wall_start = std::chrono::steady_clock::now();
  auto loaded = sim::LoadFillInput(a.nodes, a.pods);
  if (!loaded) return fail(loaded.error());
  auto input =
      MaybeConstrain(std::move(*loaded), a.constrain, a.draw, a.second_model, a.uniform_models);
  if (!input) return fail(input.error());

  sim::FillOptions opt{a.tune, a.batch, a.workload == "learned"};
  const bool tty = isatty(fileno(stderr)) != 0;
  auto progress = [&](int done, int total) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    if (!tty || elapsed < 1.0) return;
    const int width = 30;
    const int filled = done * width / total;
    std::fprintf(stderr, "\r[%s%s] %d/%d runs, %.1f s",
                 std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), '.').c_str(), done, total,
                 elapsed);
    if (done == total) std::fprintf(stderr, "\n");
  };
  auto runs = sim::RunFillGrid(*input, *policies, *seeds, opt, a.threads, progress);
  if (!runs) return fail(runs.error());
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  auto rows = sim::SummarizeRuns(*runs, *policies);
  auto json = sim::ToJson(input->trace_name, rows, wall, opt);
  if (!a.out.empty()) {
    std::string warning;
    if (Status s = sim::WriteFillOutputs(a.out, input->trace_name, *runs, rows, json, &warning);
        !s.ok())
      return fail(s);
    if (!warning.empty()) std::cerr << "gpupool sim fill: warning: " << warning << "\n";
  }
  if (a.json) {
    std::cout << json.dump() << "\n";
  } else {
    std::cout << sim::FormatTable(input->trace_name, rows);
    std::cout << fmt::format("{} runs ({} pods, {} nodes) in {:.2f} s wall\n", runs->size(),
                             input->pods.size(), input->nodes.size(), wall);
    if (!a.out.empty())
      std::cout << "wrote " << a.out << "/{summary.json,unallocated.svg,curves/}\n";
  }
  return 0;
}

struct ConstrainArgs {
  std::string nodes;
  std::string pods;
  std::string out;
  double share = -1;
  std::uint64_t draw = 1;
  double second_model = sim::ConstrainOptions{}.second_model_share;
  bool uniform_models = false;
};

void AddConstrainOptions(CLI::App& cmd, double& share, std::uint64_t& draw, double& second_model,
                         bool& uniform_models) {
  cmd.add_option("--constrain", share,
                 "Tie this share (0-1) of the GPU pods to GPU models drawn from the cluster's "
                 "model mix (a constrained variant, as the paper's gpu_spec lists)");
  cmd.add_option("--draw", draw, "Seed of the constrained variant's draw")->capture_default_str();
  cmd.add_option("--second-model", second_model,
                 "Share of the constrained pods that allow a second model")
      ->capture_default_str();
  cmd.add_flag("--uniform-models", uniform_models,
               "Draw the models uniformly instead of by their share of the GPUs (overloads the "
               "rare models)");
}

int RunConstrainCommand(const ConstrainArgs& a) {
  auto fail = [](const Status& s) {
    std::cerr << "gpupool sim constrain: " << s.message() << "\n";
    return s.ExitCode();
  };
  auto loaded = sim::LoadFillInput(a.nodes, a.pods);
  if (!loaded) return fail(loaded.error());
  auto input =
      MaybeConstrain(std::move(*loaded), a.share, a.draw, a.second_model, a.uniform_models);
  if (!input) return fail(input.error());
  if (Status s = sim::WriteOpenbPods(a.out, input->pods); !s.ok()) return fail(s);
  std::size_t constrained = 0;
  for (const auto& p : input->pods) constrained += p.spec_key.empty() ? 0 : 1;
  std::cout << fmt::format("wrote {}: {} pods, {} with a gpu_spec\n", a.out, input->pods.size(),
                           constrained);
  return 0;
}

}  // namespace

void AddSimCommand(CLI::App& app, int& exit_code) {
  auto* sim =
      app.add_subcommand("sim", "Replay the scheduler on cluster traces to compare policies");
  sim->require_subcommand(1);
  auto args = std::make_shared<FillArgs>();
  const std::string openb = (DataDir() / "traces" / "openb").string();
  args->nodes = openb + "/openb_node_list_gpu_node.csv";
  args->pods = openb + "/openb_pod_list_default.csv";
  auto* fill =
      sim->add_subcommand("fill",
                          "The openb fill experiment (Weng et al., ATC '23): pods arrive in a "
                          "seeded order until the GPU request "
                          "reaches --tune x capacity, never leave; reports unallocated GPU % at "
                          "arrived 100 % per policy (mean, median, "
                          "sd over seeds), allocation at 130 %, fragmentation and placement speed");
  fill->add_option("--nodes", args->nodes, "Node list CSV (sn,cpu_milli,memory_mib,gpu,model)")
      ->capture_default_str();
  fill->add_option("--pods", args->pods, "Pod list CSV (11-column or 5-column openb form)")
      ->capture_default_str();
  fill->add_option("--policy", args->policy, "Policies, comma-separated, or 'all'")
      ->capture_default_str();
  fill->add_option("--seeds", args->seeds, "Seeds: a list and/or ranges, e.g. 42-51 or 1,5,9")
      ->capture_default_str();
  fill->add_option("--tune", args->tune, "Resample the arrivals to this multiple of GPU capacity")
      ->capture_default_str();
  fill->add_option(
          "--batch", args->batch,
          "Scheduling window in pods for every policy: the longest a pod may wait, in arrivals. "
          "The published policies wait until K are queued, then place them together; fgd-window "
          "lets only the shares a group could take wait (waiting pods count as arrived, not "
          "allocated). 0: each policy's own (1 for the published policies, 64 for fgd-window)")
      ->capture_default_str();
  fill->add_option("--workload", args->workload,
                   "FGD's target workload: trace (the whole pod list, as the paper) or learned "
                   "(from the pods that have arrived, as gpupool serve does); fragmentation is "
                   "reported against the trace's either way")
      ->capture_default_str();
  fill->add_option("--threads", args->threads, "Worker threads (0 = one per core)")
      ->capture_default_str();
  fill->add_option("--out", args->out,
                   "Write per-seed curves (CSV), summary.json and a plot (SVG, PNG) here");
  fill->add_flag("--json", args->json, "Print one JSON object on stdout instead of the table");
  AddConstrainOptions(*fill, args->constrain, args->draw, args->second_model, args->uniform_models);
  fill->callback([args, &exit_code] { exit_code = RunFillCommand(*args); });

  auto cargs = std::make_shared<ConstrainArgs>();
  cargs->nodes = args->nodes;
  cargs->pods = args->pods;
  auto* constrain = sim->add_subcommand(
      "constrain",
      "Write a constrained variant of a pod list: a share of the GPU pods tied to GPU models "
      "drawn from the cluster's model mix (as the paper's gpu_spec variants), for sim fill --pods");
  constrain->add_option("--nodes", cargs->nodes, "Node list CSV (its models are drawn from)")
      ->capture_default_str();
  constrain->add_option("--pods", cargs->pods, "Pod list CSV to constrain")->capture_default_str();
  constrain->add_option("--out", cargs->out, "Pod list CSV to write")->required();
  AddConstrainOptions(*constrain, cargs->share, cargs->draw, cargs->second_model,
                      cargs->uniform_models);
  constrain->get_option("--constrain")->required();
  constrain->callback([cargs, &exit_code] { exit_code = RunConstrainCommand(*cargs); });
  AddReplayCommand(*sim, exit_code);
}

}  // namespace gpupool::app
