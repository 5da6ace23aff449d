// Restart of the service with 100,000 jobs in its database: PoolService::Start (open SQLite,
// load tokens and node conditions, restore the active jobs into the scheduler) on a data
// directory made once, outside the timing, through the store:
//   BM_RestartMostlyFinished   100,000 jobs, of which 99,000 ended and 1,000 pending
//   BM_RestartAllPending       100,000 pending jobs (a deep queue): every one is checked and
//                              queued again
// The demo inventory (48 GPUs); the local executor (no job is running, so nothing is adopted).
//
//   build/bench/server_restart_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "common/data_dir.h"
#include "discovery/cluster_inventory.h"
#include "executor/local_executor.h"
#include "server/job_spec.h"
#include "server/pool_service.h"
#include "store/rows.h"
#include "store/store.h"

namespace {

using namespace gpupool;

std::filesystem::path MakeDataDir(int jobs, int pending) {
  char tmpl[] = "/tmp/gpupool-restart-XXXXXX";
  const std::filesystem::path dir = mkdtemp(tmpl);
  auto store = std::move(*store::Store::Open(dir / "gpupool.db", {.synchronous_full = false}));
  server::JobSpec spec;
  spec.name = "bench";
  spec.command = {"true"};
  spec.num_gpu = 1;
  spec.gpu_milli = 500;
  const std::string spec_json = server::SpecToJson(spec).dump();
  std::vector<store::WriteOp> ops;
  for (int i = 0; i < jobs; ++i) {
    store::JobRow row;
    row.user = "admin";
    row.queue = "default";
    row.name = "bench";
    const bool is_pending = i >= jobs - pending;
    row.state = is_pending ? "pending" : "succeeded";
    row.submitted_ms = 1'700'000'000'000 + i;
    row.finished_ms = is_pending ? 0 : row.submitted_ms + 1000;
    row.spec_json = spec_json;
    ops.push_back(
        store::InsertJobOp{row, store::EventRow{0, row.submitted_ms, "pending", "submitted"}});
    if (ops.size() == 5000) {
      (void)store->Write(std::move(ops));
      ops.clear();
    }
  }
  if (!ops.empty()) (void)store->Write(std::move(ops));
  return dir;
}

void Restart(benchmark::State& state, int jobs, int pending) {
  auto inv = discovery::ReadClusterInventory(DataDir() / "inventory" / "demo.yaml");
  if (!inv) {
    state.SkipWithError(inv.error().ToString().c_str());
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    const auto dir = MakeDataDir(jobs, pending);
    {
      // Every node cordoned, so that no job starts while the service is measured and torn down.
      auto store = std::move(*store::Store::Open(dir / "gpupool.db"));
      for (const auto& n : inv->nodes) (void)store->SetNodeCondition(n.name, "cordoned");
    }
    server::ServiceOptions opt;
    opt.data_dir = dir;
    opt.nodes = inv->nodes;
    state.ResumeTiming();
    auto s = server::PoolService::Start(opt, std::make_unique<executor::LocalExecutor>());
    state.PauseTiming();
    if (!s) {
      state.SkipWithError(s.error().ToString().c_str());
      break;
    }
    s->reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
}

void BM_RestartMostlyFinished(benchmark::State& state) { Restart(state, 100000, 1000); }
BENCHMARK(BM_RestartMostlyFinished)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_RestartAllPending(benchmark::State& state) { Restart(state, 100000, 100000); }
BENCHMARK(BM_RestartAllPending)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
