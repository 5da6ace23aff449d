// Store benchmarks: durable InsertJob throughput (group commit, 1 and 64 callers), a scheduling
// cycle's atomic Write, and the restart path (Open + LoadJobsInStates) and list pages with
// 100,000 jobs in the database. The databases live in a fresh directory under $TMPDIR (so the
// figures are those of that file system's fsync), removed at exit.
//
//   build/bench/store_commit_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "store/store.h"

namespace gpupool::store {
namespace {

std::filesystem::path g_dir;

std::unique_ptr<Store> OpenOrDie(const std::filesystem::path& file, StoreOptions options = {}) {
  auto store = Store::Open(file, options);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().ToString().c_str());
    std::exit(1);
  }
  return std::move(*store);
}

// A job about the size the service stores: a ~300-byte normalised spec.
JobRow SampleJob(std::int64_t n, const std::string& state) {
  JobRow row;
  row.user = "user" + std::to_string(n % 20);
  row.queue = n % 3 == 0 ? "gpu" : "default";
  row.name = "job-" + std::to_string(n);
  row.state = state;
  row.submitted_ms = 1'764'496'800'000 + n;
  row.reason = state == "pending" ? "not now: fits in total but fragmented" : "";
  row.spec_json =
      R"({"name":"train","command":["python3","train.py","--epochs","3"],"env":{"KEY":"value"},)"
      R"("workdir":"/home/alice/project","gpus":2,"gpu_memory_mib":20480,"gpu_models":["H100-SXM"],)"
      R"("cpu_milli":8000,"memory_mib":65536,"replicas":1,"queue":"default","priority":0,)"
      R"("time_limit_s":7200,"preemptible":false,"requeue":false})";
  if (state == "running") {
    row.placement_json = R"([{"replica":0,"node":"h100-a","gpus":[{"index":0,"milli":1000}]}])";
    row.runtime_json = R"({"pid":12345,"pgid":12345})";
  }
  return row;
}

template <typename T>
T Must(Result<T> r) {
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().ToString().c_str());
    std::exit(1);
  }
  return std::move(*r);
}

// ---- Durable inserts ----

Store* InsertStore(bool synchronous_full) {
  static std::unique_ptr<Store> full = OpenOrDie(g_dir / "insert_full.db");
  static std::unique_ptr<Store> normal =
      OpenOrDie(g_dir / "insert_normal.db", StoreOptions{false, 256, 5000});
  return synchronous_full ? full.get() : normal.get();
}

void BM_InsertJob(benchmark::State& state) {
  // Opened before the threads start (the static is initialised once, under a lock).
  Store* store = InsertStore(state.range(0) != 0);
  std::int64_t n = 0;
  for (auto _ : state) {
    auto id = store->InsertJob(SampleJob(n++, "pending"), EventRow{0, n, "pending", "submitted"});
    if (!id) state.SkipWithError(id.error().ToString().c_str());
    benchmark::DoNotOptimize(id);
  }
  state.SetItemsProcessed(state.iterations());
}
// Arg: 1 = synchronous=FULL (survives a machine crash), 0 = NORMAL (process crash only).
BENCHMARK(BM_InsertJob)->Arg(1)->Threads(1)->Threads(64)->UseRealTime();
BENCHMARK(BM_InsertJob)->Arg(0)->Threads(1)->Threads(64)->UseRealTime();

// A scheduling cycle that starts 50 jobs: one atomic Write of 50 UpdateJobOps.
void BM_WriteCycleOf50(benchmark::State& state) {
  auto store = OpenOrDie(g_dir / "cycle.db");
  std::vector<WriteOp> inserts;
  for (int i = 0; i < 50; ++i) {
    inserts.emplace_back(InsertJobOp{SampleJob(i, "pending"), EventRow{0, i, "pending", ""}});
  }
  std::vector<std::int64_t> ids = Must(store->Write(std::move(inserts)));
  std::int64_t t = 0;
  for (auto _ : state) {
    std::vector<WriteOp> ops;
    for (std::int64_t id : ids) {
      JobRow row = SampleJob(id, "running");
      row.id = id;
      row.started_ms = ++t;
      ops.emplace_back(UpdateJobOp{row, {EventRow{id, t, "running", "placed"}}});
    }
    auto r = store->Write(std::move(ops));
    if (!r) state.SkipWithError(r.error().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * 50);
}
BENCHMARK(BM_WriteCycleOf50)->UseRealTime();

// ---- 100,000 jobs ----

// Builds (once per `active` value) a database of 100,000 jobs of which `active` are pending or
// running (half each) and the rest finished, each with two events.
std::filesystem::path BigDatabase(std::int64_t active) {
  std::filesystem::path file = g_dir / ("big_" + std::to_string(active) + ".db");
  if (std::filesystem::exists(file)) return file;
  auto store = OpenOrDie(file, StoreOptions{false, 256, 5000});
  constexpr std::int64_t kJobs = 100'000;
  constexpr std::int64_t kChunk = 2'000;
  // Active jobs spread evenly over the id range.
  const std::int64_t every = active == 0 ? kJobs + 1 : kJobs / active;
  for (std::int64_t base = 0; base < kJobs; base += kChunk) {
    std::vector<WriteOp> ops;
    for (std::int64_t n = base; n < base + kChunk; ++n) {
      const bool is_active = n % every == 0;
      std::string state = is_active ? (n / every % 2 == 0 ? "pending" : "running") : "succeeded";
      JobRow row = SampleJob(n, state);
      ops.emplace_back(InsertJobOp{row, EventRow{0, n, "pending", "submitted"}});
    }
    std::vector<std::int64_t> ids = Must(store->Write(std::move(ops)));
    std::vector<WriteOp> updates;
    for (std::int64_t id : ids) {
      JobRow row = SampleJob(id - 1, "running");
      row.id = id;
      auto current = Must(store->GetJob(id));
      row.state = current->state;
      updates.emplace_back(UpdateJobOp{row, {EventRow{id, id + 1, row.state, ""}}});
    }
    Must(store->Write(std::move(updates)));
  }
  return file;
}

// A restart: open the file and load what the service needs (active jobs, counts, tokens, nodes).
void BM_ReopenAndLoad(benchmark::State& state) {
  std::filesystem::path file = BigDatabase(state.range(0));
  std::size_t loaded = 0;
  for (auto _ : state) {
    auto store = OpenOrDie(file);
    auto jobs = Must(store->LoadJobsInStates({"pending", "running"}));
    auto counts = Must(store->CountJobsByState());
    auto tokens = Must(store->LoadTokens());
    auto nodes = Must(store->LoadNodeConditions());
    loaded = jobs.size();
    benchmark::DoNotOptimize(counts);
  }
  state.counters["active_loaded"] = static_cast<double>(loaded);
}
// Arg: how many of the 100,000 jobs are pending or running.
BENCHMARK(BM_ReopenAndLoad)->Arg(1'000)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_OpenOnly(benchmark::State& state) {
  std::filesystem::path file = BigDatabase(1'000);
  for (auto _ : state) benchmark::DoNotOptimize(OpenOrDie(file));
}
BENCHMARK(BM_OpenOnly)->Unit(benchmark::kMillisecond);

// A page of 100 from 100,000 jobs. Arg: 0 = no filter, 1 = user, 2 = user + state,
// 3 = state + queue, 4 = no filter, 50,000 jobs deep, 5 = user + state + queue.
void BM_ListJobsPage(benchmark::State& state) {
  auto store = OpenOrDie(BigDatabase(1'000));
  JobQuery q;
  switch (state.range(0)) {
    case 1:
      q.user = "user7";
      break;
    case 2:
      q.user = "user0";
      q.state = "running";
      break;
    case 3:
      q.state = "pending";
      q.queue = "gpu";
      break;
    case 4:
      q.before_id = 50'000;
      break;
    case 5:
      q.user = "user0";
      q.state = "pending";
      q.queue = "gpu";
      break;
    default:
      break;
  }
  std::int64_t total = 0;
  for (auto _ : state) {
    JobPage page = Must(store->ListJobs(q));
    total = page.total;
    benchmark::DoNotOptimize(page);
  }
  state.counters["total"] = static_cast<double>(total);
}
BENCHMARK(BM_ListJobsPage)->DenseRange(0, 5)->Unit(benchmark::kMicrosecond);

// A sorted page of 100 from 100,000 jobs (the dashboard's header clicks, docs/api.md). Arg: 0 =
// user ascending (read from the index (user, id)), 1 = name ascending (no index: SQLite sorts the
// rows), 2 = name ascending from a cursor half-way, 3 = name ascending for one user (5,000 rows),
// 4 = started descending.
void BM_ListJobsSorted(benchmark::State& state) {
  auto store = OpenOrDie(BigDatabase(1'000));
  JobQuery q;
  q.descending = false;
  switch (state.range(0)) {
    case 0:
      q.sort = JobSortKey::kUser;
      break;
    case 1:
      q.sort = JobSortKey::kName;
      break;
    case 2:
      q.sort = JobSortKey::kName;
      q.after = JobCursor{50'000, "job-5", 0};
      break;
    case 3:
      q.sort = JobSortKey::kName;
      q.user = "user7";
      break;
    default:
      q.sort = JobSortKey::kStarted;
      q.descending = true;
      break;
  }
  std::int64_t total = 0;
  for (auto _ : state) {
    JobPage page = Must(store->ListJobs(q));
    total = page.total;
    benchmark::DoNotOptimize(page);
  }
  state.counters["total"] = static_cast<double>(total);
}
BENCHMARK(BM_ListJobsSorted)->DenseRange(0, 4)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace gpupool::store

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  gpupool::store::g_dir =
      fs::temp_directory_path() / ("gp_store_bench_" + std::to_string(::getpid()));
  fs::create_directories(gpupool::store::g_dir);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  fs::remove_all(gpupool::store::g_dir, ec);
  return 0;
}
