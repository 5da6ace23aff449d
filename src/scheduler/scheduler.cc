#include "scheduler/scheduler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <unordered_set>
#include <utility>

#include "common/check.h"
#include "placement/fragmentation.h"
#include "placement/policy_registry.h"
#include "placement/window.h"

namespace gpupool::scheduler {
namespace {

// GPUs of the whole job (a share counts its fraction).
double JobGpus(const JobRequest& r) { return static_cast<double>(JobGpuMilli(r)) / 1000.0; }

// A GPU count as people write it: 8, 0.5, 2.25.
std::string GpuCount(double gpus) {
  std::ostringstream os;
  os << gpus;
  return os.str();
}

// "queue 'a' is limited to 4 GPUs of H100, queue 'p' is limited to 2 GPUs of A100": the
// over_limit reasons of per-model limits (Scheduler::ModelsUnderLimits).
std::string ModelLimitsText(const std::vector<WaitReason>& over) {
  std::string out;
  for (const WaitReason& w : over) {
    out +=
        (out.empty() ? "" : ", ") + ("queue '" + w.queue + "' is limited to " +
                                     GpuCount(w.limit_gpus.value_or(0)) + " GPUs of " + w.models);
  }
  return out;
}

using cluster::NodeState;
using cluster::PodRequest;

constexpr int kMaxReplicas = 4096;
// Observations a gang feeds into the learned workload at most (one per replica up to this).
constexpr int kMaxObservationsPerJob = 64;

// (replica request, replicas): the key under which a cycle remembers a shape that fitted nowhere.
struct ShapeKey {
  PodRequest replica;
  int replicas = 1;
  friend bool operator==(const ShapeKey&, const ShapeKey&) = default;
};
struct ShapeKeyHash {
  std::size_t operator()(const ShapeKey& k) const {
    std::uint64_t h = 1469598103934665603ULL;
    const auto mix = [&h](std::uint64_t v) {
      h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    };
    mix(static_cast<std::uint64_t>(k.replica.cpu_milli));
    mix(static_cast<std::uint64_t>(k.replica.memory_mib));
    mix(static_cast<std::uint64_t>(k.replica.num_gpu) << 32 |
        static_cast<std::uint32_t>(k.replica.gpu_milli));
    mix(static_cast<std::uint64_t>(k.replica.gpu_memory_mib));
    mix(k.replica.allowed_models);
    if (k.replica.require_nvlink) mix(1);  // only when set: other hashes stay as they were
    mix(static_cast<std::uint64_t>(k.replicas));
    return static_cast<std::size_t>(h);
  }
};

// How many replicas of `r` node `n` can hold now, at most `cap`. A lost GPU shows nothing left in
// NodeState (cluster_state.h), so it holds none. Exact for the filter's rules (cluster::Fits): CPU,
// memory, model, per-GPU milli and per-GPU memory. Whole GPUs: the GPUs cluster::GpuFits takes; a
// share: how many shares each GPU's milli and memory hold (GpuFits says only whether one does).
// A replica that needs one NVLink island: the sum over islands of (fitting GPUs in the island /
// num_gpu), which any choice of one island per replica reaches (islands do not share GPUs).
int Holdable(const PodRequest& r, const NodeState& n, int cap) {
  std::int64_t k = cap;
  if (r.cpu_milli > 0) k = std::min(k, n.cpu_left / r.cpu_milli);
  if (r.memory_mib > 0) k = std::min(k, n.memory_left / r.memory_mib);
  if (k <= 0) return 0;
  if (r.num_gpu == 0) return static_cast<int>(k);
  if (!cluster::ModelAllowed(r.allowed_models, n.model)) return 0;
  std::int64_t gpu_slots = 0;  // replicas the GPUs alone can take
  if (r.gpu_milli < 1000) {
    for (int g = 0; g < n.num_gpus; ++g) {
      const auto i = static_cast<std::size_t>(g);
      std::int64_t on_gpu = n.gpu_left[i] / r.gpu_milli;
      if (r.gpu_memory_mib > 0)
        on_gpu = std::min<std::int64_t>(on_gpu, n.gpu_memory_left[i] / r.gpu_memory_mib);
      gpu_slots += on_gpu;
    }
  } else if (r.needs_one_island()) {
    for (int i = 0; i < n.num_islands; ++i)
      gpu_slots += std::popcount(cluster::IslandFitting(r, n, i)) / r.num_gpu;
  } else {
    int free = 0;
    for (int g = 0; g < n.num_gpus; ++g) {
      if (cluster::GpuFits(r, n, g)) ++free;
    }
    gpu_slots = free / r.num_gpu;
  }
  return static_cast<int>(std::min(k, gpu_slots));
}

std::string Mib(std::int64_t mib) {
  if (mib >= 1024 && mib % 1024 == 0) return std::to_string(mib / 1024) + " GiB";
  return std::to_string(mib) + " MiB";
}

std::string Cpu(std::int64_t milli) {
  if (milli % 1000 == 0) return std::to_string(milli / 1000) + " CPU";
  return std::to_string(milli) + " milli-CPU";
}

std::string Gpus(std::int64_t milli) {
  if (milli % 1000 == 0) return std::to_string(milli / 1000) + " GPU" + (milli == 1000 ? "" : "s");
  return std::to_string(milli) + " milli-GPU";
}

std::string ModelsText(cluster::ModelMask mask, const cluster::ModelTable& models) {
  if (mask == cluster::kAnyModel) return "";
  std::string out;
  for (int id = 0; id < models.size(); ++id) {
    if (((mask >> id) & 1U) == 0) continue;
    out += (out.empty() ? "" : "|") + models.Name(static_cast<cluster::ModelId>(id));
  }
  return out;
}

// "2 x H100-SXM GPUs, 8 CPU, 64 GiB": one replica, for messages.
std::string Describe(const PodRequest& r, const cluster::ModelTable& models) {
  std::string out;
  if (r.num_gpu > 0) {
    out =
        r.shape() == cluster::PodShape::kSharedGpu ? Gpus(r.gpu_milli) : Gpus(r.total_gpu_milli());
    const std::string m = ModelsText(r.allowed_models, models);
    if (!m.empty()) out += " of " + m;
    if (r.gpu_memory_mib > 0) out += " with " + Mib(r.gpu_memory_mib) + " GPU memory each";
    if (r.needs_one_island()) out += " in one NVLink island";
  } else {
    out = "no GPU";
  }
  if (r.cpu_milli > 0) out += ", " + Cpu(r.cpu_milli);
  if (r.memory_mib > 0) out += ", " + Mib(r.memory_mib) + " memory";
  return out;
}

// "preempted by job 7 (priority order)" as a reason: `why` is the scheduler's words for it.
WaitReason PreemptedReason(JobId by, const std::string& why) {
  WaitReason w;
  w.code = WaitCode::kPreempted;
  w.message = why;
  if (by != 0) w.job = by;
  return w;
}

}  // namespace

std::string_view NodeConditionName(NodeCondition c) {
  switch (c) {
    case NodeCondition::kReady:
      return "ready";
    case NodeCondition::kCordoned:
      return "cordoned";
    case NodeCondition::kDraining:
      return "draining";
    case NodeCondition::kUnhealthy:
      return "unhealthy";
    case NodeCondition::kRemoved:
      return "removed";
  }
  return "unknown";
}

Scheduler::~Scheduler() = default;

namespace {

// `nodes` with MIG mode off on every GPU: what "never" is checked against (empty_) counts a GPU in
// MIG mode as usable, as it counts a lost one, since MIG mode can be turned off: a job that needs
// it waits "not now" with the free counts that leave it out, rather than being refused.
std::vector<cluster::NodeSpec> WithoutMig(std::vector<cluster::NodeSpec> nodes) {
  for (cluster::NodeSpec& n : nodes) {
    for (cluster::GpuSpec& g : n.gpus) g.mig_enabled = false;
  }
  return nodes;
}

}  // namespace

Result<std::unique_ptr<Scheduler>> Scheduler::Create(const std::vector<cluster::NodeSpec>& nodes,
                                                     const SchedulerOptions& opt) {
  std::unique_ptr<Scheduler> s(new Scheduler());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name.empty()) {
      return Error(Status::InvalidArgument("node " + std::to_string(i) + ": empty name"));
    }
    if (!s->node_index_.emplace(nodes[i].name, static_cast<int>(i)).second) {
      return Error(Status::InvalidArgument("node " + nodes[i].name + ": listed twice"));
    }
  }
  auto state = cluster::ClusterState::Build(nodes, s->models_);
  if (!state) return Error(state.error());
  s->state_ = std::move(*state);
  auto empty = cluster::ClusterState::Build(WithoutMig(nodes), s->models_);
  if (!empty) return Error(empty.error());
  s->empty_ = std::move(*empty);
  s->specs_ = nodes;
  s->conditions_.assign(nodes.size(), NodeCondition::kReady);

  s->learner_ = placement::WorkloadLearner(opt.workload_half_life);
  s->relearn_every_ = std::max(1, opt.relearn_every);
  placement::PolicyContext ctx;
  ctx.workload = s->workload_;
  ctx.jobs_end = true;
  auto policy = placement::MakePolicy(opt.policy, ctx);
  if (!policy) return Error(policy.error());
  s->policy_ = std::move(*policy);
  s->placer_ =
      std::make_unique<placement::Placer>(*s->policy_, s->state_.num_nodes(), opt.seed, opt.placer);
  if (opt.window < 0) {
    return Error(Status::InvalidArgument("window: " + std::to_string(opt.window) + " is negative"));
  }
  s->window_ = opt.window > 0 ? opt.window : s->policy_->default_window();
  s->strict_order_ = opt.strict_order;
  if (!opt.queues.empty()) {
    auto queues = queue::QueueSet::Create(opt.queues);
    if (!queues) return Error(queues.error());
    GP_RETURN_IF_ERROR(s->CheckQueueModels(*queues));
    s->queues_ = std::move(*queues);
  }
  s->preemption_ = opt.preemption;
  if (!(opt.min_run_s >= 0)) {
    return Error(Status::InvalidArgument("min_run_s: " + std::to_string(opt.min_run_s) +
                                         " is not a number of seconds >= 0"));
  }
  s->min_run_s_ = opt.min_run_s;
  s->victim_choice_ = opt.victim_choice;
  s->wait_for_victims_ = opt.wait_for_victims;
  s->easy_backfill_ = opt.easy_backfill;
  s->gang_reservation_ = opt.gang_reservation && !opt.strict_order;
  if (!(opt.reservation_timeout_s >= 0)) {
    return Error(Status::InvalidArgument(
        "reservation_timeout_s: " + std::to_string(opt.reservation_timeout_s) +
        " is not a number of seconds >= 0"));
  }
  s->reservation_timeout_s_ = opt.reservation_timeout_s;
  if (opt.max_reservations < 1) {
    return Error(Status::InvalidArgument(
        "max_reservations: " + std::to_string(opt.max_reservations) + " is not >= 1"));
  }
  s->max_reservations_ = opt.max_reservations;
  s->reserve_wide_jobs_ = opt.reserve_wide_jobs;
  if (s->strict_order_) s->window_ = 1;
  s->max_defer_cycles_ = opt.max_defer_cycles;
  auto order = MakeJobOrder(opt.order);
  if (!order) return Error(order.error());
  s->order_ = std::move(*order);
  return s;
}

// ---------------------------------------------------------------- nodes

std::optional<int> Scheduler::NodeIndex(std::string_view name) const {
  const auto it = node_index_.find(std::string(name));
  if (it == node_index_.end()) return std::nullopt;
  return it->second;
}

bool Scheduler::gpu_healthy(int node, int gpu) const { return state_.gpu_healthy(node, gpu); }

std::optional<std::string_view> Scheduler::gpu_no_work_reason(int node, int gpu) const {
  if (state_.gpu_in_mig_mode(node, gpu)) return kMigNoWorkReason;
  if (!state_.gpu_healthy(node, gpu)) return kUnhealthyNoWorkReason;
  return std::nullopt;
}

Result<int> Scheduler::AddNode(const cluster::NodeSpec& spec) {
  if (spec.name.empty()) return Error(Status::InvalidArgument("node: empty name"));
  if (node_index_.contains(spec.name)) {
    return Error(Status::InvalidArgument("node " + spec.name + ": already in the pool"));
  }
  auto index = state_.AddNode(spec, models_);
  if (!index) return Error(index.error());
  auto empty_index = empty_.AddNode(WithoutMig({spec})[0], models_);
  GP_CHECK(empty_index && *empty_index == *index);
  placer_->OnNodeAdded(*index);
  freed_ = true;
  specs_.push_back(spec);
  conditions_.push_back(NodeCondition::kReady);
  node_index_.emplace(spec.name, *index);
  return *index;
}

Status Scheduler::SetNodeCondition(std::string_view node, NodeCondition c) {
  const auto i = NodeIndex(node);
  if (!i) return Status::NotFound("node " + std::string(node) + ": not in the pool");
  if (c == NodeCondition::kRemoved) return RemoveNode(node);
  GP_RETURN_IF_ERROR(state_.SetSchedulable(*i, c == NodeCondition::kReady));
  conditions_[static_cast<std::size_t>(*i)] = c;
  if (c == NodeCondition::kReady) freed_ = true;
  return Status::Ok();
}

Status Scheduler::SetGpuHealthy(std::string_view node, int gpu, bool healthy) {
  const auto i = NodeIndex(node);
  if (!i) return Status::NotFound("node " + std::string(node) + ": not in the pool");
  GP_RETURN_IF_ERROR(state_.SetGpuHealthy(*i, gpu, healthy));
  if (healthy) freed_ = true;
  return Status::Ok();
}

Status Scheduler::RemoveNode(std::string_view node) {
  const auto i = NodeIndex(node);
  if (!i) return Status::NotFound("node " + std::string(node) + ": not in the pool");
  const std::vector<JobId> jobs = JobsOnNode(*i);
  if (!jobs.empty()) {
    return Status::FailedPrecondition("node " + std::string(node) + ": still holds " +
                                      std::to_string(jobs.size()) + " job(s), first job " +
                                      std::to_string(jobs.front()) + "; drain it first");
  }
  GP_RETURN_IF_ERROR(state_.RemoveNode(*i));
  GP_RETURN_IF_ERROR(empty_.RemoveNode(*i));
  conditions_[static_cast<std::size_t>(*i)] = NodeCondition::kRemoved;
  node_index_.erase(std::string(node));
  return Status::Ok();
}

std::vector<JobId> Scheduler::JobsOnNode(int i) const {
  std::vector<JobId> out;
  for (const auto& [id, placement] : placed_) {
    for (const auto& a : placement) {
      if (a.node == i) {
        out.push_back(id);
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------- jobs

Status Scheduler::ValidateRequest(const JobRequest& r) const {
  GP_RETURN_IF_ERROR(cluster::ValidatePodRequest(r.replica));
  if (queues_ && !queues_->Has(r.queue)) {
    return Status::InvalidArgument("queue: unknown queue '" + r.queue + "'");
  }
  if (r.replicas < 1 || r.replicas > kMaxReplicas) {
    return Status::InvalidArgument("replicas: " + std::to_string(r.replicas) +
                                   " is out of range 1.." + std::to_string(kMaxReplicas));
  }
  return Status::Ok();
}

Status Scheduler::CheckFeasible(const JobRequest& r) const {
  GP_RETURN_IF_ERROR(ValidateRequest(r));
  if (queues_) {
    // Larger than a limit on the path to the root: never (whatever else runs).
    const std::string blocker = queues_->LimitBlocker(r.queue, JobGpus(r), /*empty=*/true);
    if (!blocker.empty()) {
      return Status::FailedPrecondition("never: queue '" + blocker + "' is limited to " +
                                        GpuCount(queues_->spec(blocker).limit_gpus) +
                                        " GPUs and the job asks for " + GpuCount(JobGpus(r)));
    }
    // Every model it may run on limited below it (per-model limits): never either.
    std::vector<WaitReason> over;
    if (!ModelsUnderLimits(*queues_, r, {}, /*empty=*/true, &over)) {
      return Status::FailedPrecondition("never: " + ModelLimitsText(over) +
                                        " and the job asks for " + GpuCount(JobGpus(r)));
    }
  }
  const PodRequest& p = r.replica;
  std::int64_t holdable = 0;
  bool model_exists = p.num_gpu == 0;
  int most_gpus = 0;                           // largest GPU count on a node of an allowed model
  int most_island = 0;                         // largest NVLink island there (needs_one_island)
  std::int64_t most_gpu_memory = 0;            // largest GPU memory of an allowed model
  std::int64_t most_cpu = 0, most_memory = 0;  // on nodes whose GPUs could hold a replica
  bool gpus_fit_somewhere = p.num_gpu == 0;
  for (int i = 0; i < empty_.num_nodes(); ++i) {
    if (conditions_[static_cast<std::size_t>(i)] == NodeCondition::kRemoved) continue;
    const NodeState& n = empty_.node(i);
    holdable += Holdable(p, n, r.replicas - static_cast<int>(holdable));
    if (holdable >= r.replicas) return Status::Ok();
    if (p.num_gpu > 0) {
      if (n.num_gpus == 0 || !cluster::ModelAllowed(p.allowed_models, n.model)) continue;
      model_exists = true;
      most_gpus = std::max(most_gpus, n.num_gpus);
      for (int island = 0; island < n.num_islands; ++island) {
        most_island =
            std::max(most_island, std::popcount(n.island_masks[static_cast<std::size_t>(island)]));
      }
      for (int g = 0; g < n.num_gpus; ++g) {
        most_gpu_memory =
            std::max<std::int64_t>(most_gpu_memory, n.gpu_memory_left[static_cast<std::size_t>(g)]);
      }
      PodRequest gpus_only = p;
      gpus_only.cpu_milli = 0;
      gpus_only.memory_mib = 0;
      if (Holdable(gpus_only, n, 1) == 0) continue;
      gpus_fit_somewhere = true;
    }
    most_cpu = std::max(most_cpu, n.cpu_left);
    most_memory = std::max(most_memory, n.memory_left);
  }
  const std::string what = Describe(p, models_);
  if (!model_exists) {
    return Status::FailedPrecondition("never: no node has GPUs of model " +
                                      ModelsText(p.allowed_models, models_) +
                                      " (the pool has: " + models_.Known() + ")");
  }
  if (!gpus_fit_somewhere) {
    if (p.num_gpu > most_gpus) {
      return Status::FailedPrecondition("never: " + std::to_string(p.num_gpu) +
                                        " GPUs per replica, but the largest node" +
                                        (p.allowed_models == cluster::kAnyModel
                                             ? ""
                                             : " of " + ModelsText(p.allowed_models, models_)) +
                                        " has " + std::to_string(most_gpus));
    }
    if (p.needs_one_island() && p.num_gpu > most_island) {
      const std::string of_models = p.allowed_models == cluster::kAnyModel
                                        ? ""
                                        : " of " + ModelsText(p.allowed_models, models_);
      return Status::FailedPrecondition(
          "never: " + std::to_string(p.num_gpu) +
          " GPUs per replica inside one NVLink island (topology nvlink), but " +
          (most_island == 0 ? "no node" + of_models + " declares NVLink islands"
                            : "the largest island on a node" + of_models + " has " +
                                  std::to_string(most_island) + " GPUs"));
    }
    return Status::FailedPrecondition("never: " + Mib(p.gpu_memory_mib) +
                                      " of GPU memory per GPU, but the largest GPU has " +
                                      Mib(most_gpu_memory));
  }
  if (holdable == 0) {
    if (p.cpu_milli > most_cpu) {
      return Status::FailedPrecondition(
          "never: " + Cpu(p.cpu_milli) +
          " per replica, but the largest node that has the GPUs has " + Cpu(most_cpu));
    }
    if (p.memory_mib > most_memory) {
      return Status::FailedPrecondition("never: " + Mib(p.memory_mib) +
                                        " of memory per replica, but the largest node that has the "
                                        "GPUs has " +
                                        Mib(most_memory));
    }
    return Status::FailedPrecondition("never: no node can hold " + what + " at once");
  }
  return Status::FailedPrecondition("never: a gang of " + std::to_string(r.replicas) + " x (" +
                                    what + "), but the whole pool holds at most " +
                                    std::to_string(holdable) + " such replicas");
}

Status Scheduler::CheckQueues(std::vector<queue::QueueSpec> specs,
                              const std::vector<JobRequest>& arriving) const {
  auto set = BuildQueues(std::move(specs), arriving);
  return set ? Status::Ok() : set.error();
}

Status Scheduler::SetQueues(std::vector<queue::QueueSpec> specs,
                            const std::vector<JobRequest>& arriving) {
  auto set = BuildQueues(std::move(specs), arriving);
  if (!set) return set.error();
  queues_ = std::move(*set);
  freed_ = true;  // a limit raised or a queue added may let waiting jobs start
  for (const auto& [queue, job] : queue_heads_) waits_.erase(job);
  queue_heads_.clear();  // every queue's head is found again by the next (full) cycle
  return Status::Ok();
}

Result<std::optional<queue::QueueSet>> Scheduler::BuildQueues(
    std::vector<queue::QueueSpec> specs, const std::vector<JobRequest>& arriving) const {
  auto set = queue::QueueSet::Create(std::move(specs));
  if (!set) return Error(set.error());
  GP_RETURN_IF_ERROR(CheckQueueModels(*set));
  const bool none = set->specs().empty();  // no queues: any queue name is fine
  // The jobs of every queue the new set lacks, by name (the message lists them in name order).
  struct Count {
    int pending = 0, running = 0, arriving = 0;
  };
  std::map<std::string, Count> missing;
  for (const auto& [id, job] : pending_) {
    if (!none && !set->Has(job.request.queue)) ++missing[job.request.queue].pending;
  }
  for (const auto& [id, run] : running_) {
    // A placement restored without its request names no queue and charges none.
    const std::string& q = run.job.request.queue;
    if (!none && !q.empty() && !set->Has(q)) ++missing[q].running;
  }
  for (const JobRequest& r : arriving) {
    if (!none && !set->Has(r.queue)) ++missing[r.queue].arriving;
  }
  if (!missing.empty()) {
    const auto& [name, n] = *missing.begin();
    std::string what =
        std::to_string(n.pending) + " pending, " + std::to_string(n.running) + " running";
    if (n.arriving > 0) what += ", " + std::to_string(n.arriving) + " being submitted";
    return Error(Status::FailedPrecondition(
        "queue '" + name + "' is missing from the new queues but has " +
        std::to_string(n.pending + n.running + n.arriving) + " job(s) (" + what +
        "); keep it until they have ended, or cancel them"));
  }
  // A pending job larger than a limit on its path could never start (a submission like it is
  // refused as "never"): the change is refused instead of stranding it.
  const auto never = [&](const JobRequest& r) {
    return none ? std::string() : set->LimitBlocker(r.queue, JobGpus(r), /*empty=*/true);
  };
  // The same for the per-model limits: "" or what limits every model it may run on.
  const auto never_on_models = [&](const JobRequest& r) {
    std::vector<WaitReason> over;
    if (none || ModelsUnderLimits(*set, r, {}, /*empty=*/true, &over)) return std::string();
    return ModelLimitsText(over);
  };
  std::vector<JobId> ids;
  ids.reserve(pending_.size());
  for (const auto& [id, job] : pending_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (const JobId id : ids) {
    const JobRequest& r = pending_.at(id).request;
    if (const std::string b = never(r); !b.empty()) {
      return Error(Status::FailedPrecondition(
          "queue '" + b + "': limit " + GpuCount(set->spec(b).limit_gpus) + " is below the " +
          GpuCount(JobGpus(r)) + " GPUs of pending job " + std::to_string(id) + " (queue '" +
          r.queue + "'), which could then never start; cancel it first or keep the limit"));
    }
    if (const std::string m = never_on_models(r); !m.empty()) {
      return Error(Status::FailedPrecondition(
          m + ", below the " + GpuCount(JobGpus(r)) + " GPUs of pending job " + std::to_string(id) +
          " (queue '" + r.queue +
          "') on every model it may run on: it could then never start; cancel it first or keep "
          "the limit"));
    }
  }
  for (const JobRequest& r : arriving) {
    if (const std::string b = never(r); !b.empty()) {
      return Error(Status::FailedPrecondition(
          "queue '" + b + "': limit " + GpuCount(set->spec(b).limit_gpus) + " is below the " +
          GpuCount(JobGpus(r)) + " GPUs of a job being submitted to queue '" + r.queue +
          "'; try again"));
    }
    if (const std::string m = never_on_models(r); !m.empty()) {
      return Error(Status::FailedPrecondition(
          m + ", below the " + GpuCount(JobGpus(r)) + " GPUs of a job being submitted to queue '" +
          r.queue + "' on every model it may run on; try again"));
    }
  }
  // Checked: from here nothing fails. The usage is that of the running jobs' requests (victims
  // still stopping included: they hold their GPUs).
  for (const auto& [id, run] : running_) {
    const JobRequest& r = run.job.request;
    if (set->Has(r.queue)) set->Charge(r.queue, JobGpus(r), run.by_model);
  }
  if (none) return std::optional<queue::QueueSet>();
  return std::optional<queue::QueueSet>(std::move(*set));
}

Status Scheduler::AddPending(JobId id, const JobRequest& r) { return AddPending(id, r, History{}); }

Status Scheduler::AddPending(JobId id, const JobRequest& r, const History& history) {
  GP_RETURN_IF_ERROR(ValidateRequest(r));
  if (pending_.contains(id) || placed_.contains(id)) {
    return Status::FailedPrecondition("job " + std::to_string(id) + ": already known");
  }
  PendingJob job{id, r, next_seq_++};
  job.attained_gpu_s = history.attained_gpu_s;
  job.restarts = history.restarts;
  pending_.emplace(id, std::move(job));
  arrivals_.push_back(id);
  const int observe = std::min(r.replicas, kMaxObservationsPerJob);
  for (int i = 0; i < observe; ++i) learner_.Observe(r.replica);
  return Status::Ok();
}

Status Scheduler::RemovePending(JobId id) {
  if (pending_.erase(id) == 0) {
    return Status::NotFound("job " + std::to_string(id) + ": not pending");
  }
  waits_.erase(id);
  deferrals_.erase(id);
  positions_stale_ = true;
  return Status::Ok();
}

Status Scheduler::Allocate(JobId id, const Placement& placement) {
  return Allocate(id, placement, nullptr, nullptr);
}

Status Scheduler::Allocate(JobId id, const Placement& placement, const JobRequest& request) {
  return Allocate(id, placement, &request, nullptr);
}

Status Scheduler::Allocate(JobId id, const Placement& placement, const JobRequest& request,
                           const History& history) {
  return Allocate(id, placement, &request, &history);
}

Status Scheduler::Allocate(JobId id, const Placement& placement, const JobRequest* request,
                           const History* history) {
  if (placed_.contains(id)) {
    return Status::FailedPrecondition("job " + std::to_string(id) + ": already holds a placement");
  }
  if (placement.empty()) {
    return Status::InvalidArgument("job " + std::to_string(id) + ": empty placement");
  }
  for (std::size_t k = 0; k < placement.size(); ++k) {
    const cluster::Allocation& a = placement[k];
    Status s =
        a.node >= 0 && a.node < state_.num_nodes()
            ? state_.Allocate(a)
            : Status::InvalidArgument("node index " + std::to_string(a.node) + " is out of range");
    if (!s.ok()) {
      for (std::size_t j = 0; j < k; ++j) GP_CHECK(state_.Release(placement[j]).ok());
      return Status(s.code(), "job " + std::to_string(id) + " replica " + std::to_string(k) + ": " +
                                  s.message());
    }
  }
  placed_.emplace(id, placement);
  MarkRunning(id, request, history);
  pending_.erase(id);
  waits_.erase(id);
  deferrals_.erase(id);
  positions_stale_ = true;
  return Status::Ok();
}

void Scheduler::MarkRunning(JobId id, const JobRequest* request, const History* history) {
  const auto it = pending_.find(id);
  // A placement restored from elsewhere without a pending record or a request: an unknown
  // request, which is never preemptible and charges no queue.
  PendingJob job = it != pending_.end() ? it->second : PendingJob{id, JobRequest{}, 0};
  if (request != nullptr) job.request = *request;
  double since = now_s_;
  std::optional<double> checkpoint;
  if (history != nullptr) {
    job.attained_gpu_s = history->attained_gpu_s;
    job.restarts = history->restarts;
    if (history->run_since_s) since = std::min(*history->run_since_s, now_s_);
    checkpoint = history->checkpoint_s;
  }
  Running& run = running_[id];
  run = Running{std::move(job), since, checkpoint, {}};
  // The GPUs of each model it holds, from where it was placed (its queue is charged by model).
  std::map<std::string, std::int64_t> milli;
  for (const cluster::Allocation& a : placed_.at(id)) {
    const std::int64_t m = std::int64_t{std::popcount(a.gpu_mask)} * a.gpu_milli;
    if (m > 0) milli[models_.Name(state_.node(a.node).model)] += m;
  }
  for (const auto& [model, m] : milli) run.by_model[model] = static_cast<double>(m) / 1000.0;
  const JobRequest& r = run.job.request;
  if (queues_ && queues_->Has(r.queue)) queues_->Charge(r.queue, JobGpus(r), run.by_model);
}

PendingJob Scheduler::RunningView(JobId id) const {
  const Running& run = running_.at(id);
  PendingJob view = run.job;
  view.attained_gpu_s += (now_s_ - run.since_s) * JobGpus(run.job.request);
  return view;
}

double Scheduler::Attained(JobId id) const {
  if (running_.contains(id)) return RunningView(id).attained_gpu_s;
  const auto it = pending_.find(id);
  return it == pending_.end() ? 0.0 : it->second.attained_gpu_s;
}

int Scheduler::Restarts(JobId id) const {
  if (const auto it = running_.find(id); it != running_.end()) return it->second.job.restarts;
  const auto it = pending_.find(id);
  return it == pending_.end() ? 0 : it->second.restarts;
}

Status Scheduler::Checkpointed(JobId id) {
  const auto it = running_.find(id);
  if (it == running_.end()) return Status::NotFound("job " + std::to_string(id) + ": not running");
  it->second.checkpoint_s = now_s_;
  return Status::Ok();
}

double Scheduler::LostWork(JobId id) const {
  const auto it = running_.find(id);
  if (it == running_.end()) return 0.0;
  const Running& run = it->second;
  return now_s_ - std::max(run.since_s, run.checkpoint_s.value_or(run.since_s));
}

std::optional<double> Scheduler::RunSince(JobId id) const {
  const auto it = running_.find(id);
  if (it == running_.end()) return std::nullopt;
  return it->second.since_s;
}

std::optional<double> Scheduler::CheckpointAt(JobId id) const {
  const auto it = running_.find(id);
  if (it == running_.end()) return std::nullopt;
  return it->second.checkpoint_s;
}

std::optional<JobId> Scheduler::PreemptedBy(JobId id) const {
  const auto it = stopping_.find(id);
  if (it == stopping_.end()) return std::nullopt;
  return it->second.by;
}

std::string Scheduler::PreemptionReason(JobId id) const {
  const auto it = stopping_.find(id);
  return it == stopping_.end() ? std::string() : it->second.reason;
}

Status Scheduler::MarkPreempted(JobId id, JobId by, const std::string& reason) {
  if (!running_.contains(id)) {
    return Status::NotFound("job " + std::to_string(id) + ": not running");
  }
  stopping_[id] = Stopping{by, reason};
  return Status::Ok();
}

Status Scheduler::Requeue(JobId id) {
  if (!running_.contains(id)) {
    return Status::NotFound("job " + std::to_string(id) + ": not running");
  }
  PendingJob back = RunningView(id);
  ++back.restarts;
  const std::string why = PreemptionReason(id);
  const std::optional<JobId> by = PreemptedBy(id);
  GP_RETURN_IF_ERROR(Release(id));
  pending_.emplace(id, std::move(back));
  if (!why.empty()) waits_[id] = Wait{nullptr, {PreemptedReason(by.value_or(0), why)}};
  std::erase(ranked_, id);  // its rank from before it ran is stale; the next cycle ranks it
  positions_stale_ = true;
  return Status::Ok();
}

Status Scheduler::Release(JobId id) {
  const auto it = placed_.find(id);
  if (it == placed_.end()) {
    return Status::NotFound("job " + std::to_string(id) + ": holds nothing (released twice?)");
  }
  freed_ = true;
  stopping_.erase(id);
  Status first = Status::Ok();
  for (const auto& a : it->second) {
    Status s = state_.Release(a);
    if (!s.ok() && first.ok()) first = s;
  }
  placed_.erase(it);
  if (const auto run = running_.find(id); run != running_.end()) {
    const JobRequest& r = run->second.job.request;
    if (queues_ && queues_->Has(r.queue)) {
      queue::ModelGpus back = run->second.by_model;
      for (auto& [model, gpus] : back) gpus = -gpus;
      queues_->Charge(r.queue, -JobGpus(r), back);
    }
    running_.erase(run);
  }
  return first;
}

const Placement* Scheduler::placement(JobId id) const {
  const auto it = placed_.find(id);
  return it == placed_.end() ? nullptr : &it->second;
}

std::vector<WaitReason> Scheduler::PendingReasons(JobId id) const {
  std::vector<WaitReason> out;
  if (!pending_.contains(id)) return out;
  if (const auto it = waits_.find(id); it != waits_.end()) {
    out = it->second.own;
    const Wait& w = it->second;
    if (w.shape) out.insert(out.end(), w.shape->begin(), w.shape->end());
    if (w.same_shape_ahead > 0) {
      WaitReason ahead;
      ahead.code = WaitCode::kBehindHigherPriority;
      ahead.message = std::to_string(w.same_shape_ahead) + " job(s) of the same shape ahead of it";
      ahead.job = w.same_shape_first;
      ahead.jobs_ahead = w.same_shape_ahead;
      out.push_back(std::move(ahead));
    }
  }
  // Strict order: the jobs behind the head wait for it (unless EASY already named it); with
  // queues, the head of the job's own queue.
  JobId head = blocked_head_;
  const std::string& queue = pending_.at(id).request.queue;
  if (strict_order_ && queues_) {
    const auto it = queue_heads_.find(queue);
    head = it == queue_heads_.end() ? 0 : it->second;
  }
  if (strict_order_ && head != 0 && id != head &&
      std::none_of(out.begin(), out.end(),
                   [](const WaitReason& w) { return w.code == WaitCode::kReservationAhead; })) {
    WaitReason w;
    w.code = WaitCode::kBehindHigherPriority;
    w.message = "behind job " + std::to_string(head) + ", which does not fit yet (strict " +
                std::string(order_->name()) + " order" +
                (queues_ ? " in queue '" + queue + "'" : std::string()) + ": no job overtakes it)";
    w.job = head;
    out.push_back(std::move(w));
  }
  std::stable_sort(out.begin(), out.end(), [](const WaitReason& a, const WaitReason& b) {
    return static_cast<int>(a.code) < static_cast<int>(b.code);
  });
  return out;
}

std::string Scheduler::PendingReason(JobId id) const { return JoinWaitReasons(PendingReasons(id)); }

std::optional<PendingPosition> Scheduler::QueuePosition(JobId id) const {
  const auto job = pending_.find(id);
  if (job == pending_.end()) return std::nullopt;
  if (positions_stale_) {
    position_.clear();
    queue_count_.clear();
    for (const JobId r : ranked_) {
      const auto it = pending_.find(r);
      if (it == pending_.end() || position_.contains(r)) continue;  // placed, gone, or seen
      const std::string& q = queues_ ? it->second.request.queue : std::string();
      position_.emplace(r, ++queue_count_[q]);
    }
    positions_stale_ = false;
  }
  const auto it = position_.find(id);
  if (it == position_.end()) return std::nullopt;
  PendingPosition out;
  out.queue = queues_ ? job->second.request.queue : std::string();
  out.position = it->second;
  out.count = queue_count_.at(out.queue);
  return out;
}

std::optional<JobId> Scheduler::HeadOfQueue() const {
  for (const JobId r : ranked_) {
    if (pending_.contains(r)) return r;
  }
  return std::nullopt;
}

std::vector<StrandedGpus> Scheduler::StrandedFor(JobId id) const {
  std::vector<StrandedGpus> out;
  const auto job = pending_.find(id);
  if (job == pending_.end() || job->second.request.replica.num_gpu == 0) return out;
  const PodRequest& r = job->second.request.replica;
  for (int i = 0; i < state_.num_nodes(); ++i) {
    const cluster::NodeState& n = state_.node(i);
    if (n.removed) continue;
    const cluster::Misfit node_why = cluster::WhyNotFits(r, n);
    StrandedGpus s{i, 0, node_why == cluster::Misfit::kFits ? cluster::Misfit::kGpus : node_why};
    for (int g = 0; g < n.num_gpus; ++g) {
      const bool has_free = n.gpu_left[static_cast<std::size_t>(g)] > 0;
      if (has_free && (node_why != cluster::Misfit::kFits || !cluster::GpuFits(r, n, g)))
        s.gpus |= 1U << g;
    }
    if (s.gpus != 0) out.push_back(s);
  }
  return out;
}

// ---------------------------------------------------------------- the cycle

void Scheduler::MaybeRelearn() {
  if (!learner_.Stale(learned_at_, relearn_every_)) return;
  const std::int64_t seen = learner_.observed();
  workload_ = learner_.Current();
  learned_at_ = seen;
  policy_->SetWorkload(workload_);
  placer_->InvalidateScores();
}

std::optional<Placement> Scheduler::PlaceGang(const PodRequest& r, int replicas) {
  const int shape = placer_->ShapeId(r);
  Placement out;
  out.reserve(static_cast<std::size_t>(replicas));
  const auto rollback = [&] {
    for (const auto& a : out) GP_CHECK(state_.Release(a).ok());
  };
  const auto& rank = placer_->node_rank();
  while (static_cast<int>(out.size()) < replicas) {
    const int remaining = replicas - static_cast<int>(out.size());
    int best = -1, best_k = 0, best_score = -1;
    for (int n = 0; n < state_.num_nodes(); ++n) {
      const NodeState& node = state_.node(n);
      if (!cluster::Fits(r, node)) continue;
      const int k = Holdable(r, node, remaining);
      if (k == 0) continue;
      const int score = placer_->ScoreNode(r, shape, state_, n).score;
      if (best < 0 || k > best_k || (k == best_k && score > best_score) ||
          (k == best_k && score == best_score &&
           rank[static_cast<std::size_t>(n)] < rank[static_cast<std::size_t>(best)])) {
        best = n;
        best_k = k;
        best_score = score;
      }
    }
    if (best < 0) {
      rollback();
      return std::nullopt;
    }
    int taken = 0;
    for (; taken < best_k; ++taken) {
      const placement::NodeScore s = placer_->ScoreNode(r, shape, state_, best);
      if (s.score < 0) break;
      const cluster::Allocation a = cluster::MakeAllocation(r, best, s.gpu_mask);
      if (!state_.Allocate(a).ok()) break;
      out.push_back(a);
    }
    if (taken == 0) {  // the estimate and the filter disagree: never loop forever
      rollback();
      return std::nullopt;
    }
  }
  return out;
}

std::vector<WaitReason> Scheduler::Shortfall(const PodRequest& r, int replicas) const {
  const std::string what = Describe(r, models_);
  std::int64_t holdable = 0;
  int usable_nodes = 0, model_nodes = 0;
  std::int64_t free_gpus = 0, most_free_gpus = 0;          // whole free GPUs
  std::int64_t free_milli = 0, most_milli_one_gpu = 0;     // shares
  std::int64_t other_free_gpus = 0, other_free_milli = 0;  // on ready nodes of other models
  std::int64_t most_gpu_memory = 0;
  std::int64_t most_cpu = -1, most_memory = -1;  // on nodes whose GPUs fit
  PodRequest gpus_only = r;
  gpus_only.cpu_milli = 0;
  gpus_only.memory_mib = 0;
  // The topology rule: replicas the ready nodes would hold without it, and the most GPUs that fit
  // inside one island of a ready node (both only for a replica that needs one island).
  const bool one_island = r.needs_one_island();
  PodRequest without_rule = r;
  without_rule.require_nvlink = false;
  std::int64_t holdable_without_rule = 0;
  int most_in_island = 0;
  for (int i = 0; i < state_.num_nodes(); ++i) {
    const NodeCondition c = conditions_[static_cast<std::size_t>(i)];
    if (c == NodeCondition::kRemoved) continue;
    const NodeState& n = state_.node(i);
    if (r.num_gpu > 0 && (n.num_gpus == 0 || !cluster::ModelAllowed(r.allowed_models, n.model))) {
      if (c != NodeCondition::kReady) continue;
      for (int g = 0; g < n.num_gpus; ++g) {
        const auto gi = static_cast<std::size_t>(g);
        if (n.gpu_left[gi] == 1000) ++other_free_gpus;
        other_free_milli += n.gpu_left[gi];
      }
      continue;
    }
    ++model_nodes;
    if (c != NodeCondition::kReady) continue;
    ++usable_nodes;
    holdable += Holdable(r, n, replicas);
    if (one_island) {
      holdable_without_rule += Holdable(without_rule, n, replicas);
      most_in_island = std::max(most_in_island, cluster::MostFittingInOneIsland(r, n));
    }
    std::int64_t node_free = 0;
    for (int g = 0; g < n.num_gpus; ++g) {
      const auto gi = static_cast<std::size_t>(g);
      if (n.gpu_left[gi] == 1000) ++node_free;
      free_milli += n.gpu_left[gi];
      most_milli_one_gpu = std::max<std::int64_t>(most_milli_one_gpu, n.gpu_left[gi]);
      most_gpu_memory = std::max<std::int64_t>(most_gpu_memory, n.gpu_memory_left[gi]);
    }
    free_gpus += node_free;
    most_free_gpus = std::max(most_free_gpus, node_free);
    if (r.num_gpu == 0 || Holdable(gpus_only, n, 1) > 0) {
      most_cpu = std::max(most_cpu, n.cpu_left);
      most_memory = std::max(most_memory, n.memory_left);
    }
  }
  const std::string models = ModelsText(r.allowed_models, models_);
  const std::string of_model = models.empty() ? "" : " " + models;
  std::vector<WaitReason> out;
  const auto add = [&out](WaitCode code, std::string message) -> WaitReason& {
    out.push_back(WaitReason{});
    out.back().code = code;
    out.back().message = std::move(message);
    return out.back();
  };
  if (usable_nodes == 0) {
    add(WaitCode::kNodesUnavailable,
        "every node" + (models.empty() ? std::string() : " with" + of_model + " GPUs") +
            " is cordoned, draining or unhealthy (" + std::to_string(model_nodes) + " node(s))")
        .nodes = model_nodes;
    return out;
  }
  // The GPUs: short in the pool (none at all of the models asked for: no_gpu_of_model), or
  // enough in total for a replica but not on one node (one GPU for a share).
  if (r.num_gpu > 0) {
    const bool whole = r.shape() == cluster::PodShape::kWholeGpus;
    const std::int64_t per_replica = whole ? r.num_gpu : r.gpu_milli;
    const std::int64_t need = per_replica * replicas;
    const std::int64_t free = whole ? free_gpus : free_milli;
    const std::int64_t most = whole ? most_free_gpus : most_milli_one_gpu;
    const std::string unit = whole ? "gpus" : "gpu_milli";
    if (free == 0 && !models.empty()) {
      const std::int64_t other = whole ? other_free_gpus : other_free_milli;
      WaitReason& w = add(WaitCode::kNoGpuOfModel,
                          "no" + of_model + " GPU free (needs " +
                              (whole ? std::to_string(need) + " GPU(s)" : Gpus(need)) + "; " +
                              (whole ? std::to_string(other) + " GPU(s)" : Gpus(other)) +
                              " free of other models)");
      w.models = models;
      w.needed = need;
      w.free = 0;
      w.free_other_models = other;
    } else if (free < need) {
      WaitReason& w = add(
          WaitCode::kInsufficient,
          whole ? "needs " + std::to_string(need) + of_model + " GPU(s) free, the pool has " +
                      std::to_string(free) + " free"
                : "needs " + Gpus(need) + of_model + " free, the pool has " + Gpus(free) + " free");
      w.resource = unit;
      w.needed = need;
      w.free = free;
      w.short_by = need - free;
    }
    if (most < per_replica && free >= per_replica) {
      WaitReason& w =
          add(WaitCode::kFragmentation,
              whole ? "fits in total but fragmented: " + std::to_string(free) + of_model +
                          " GPUs free in the pool, at most " + std::to_string(most) +
                          " free on one node (needs " + std::to_string(per_replica) + ")"
                    : "fits in total but fragmented: " + Gpus(free) + of_model +
                          " free in the pool, at most " + Gpus(most) + " on one GPU (needs " +
                          Gpus(per_replica) + ")");
      w.resource = unit;
      w.needed = per_replica;
      w.free = free;
      w.most_on_one = most;
    }
  }
  const auto short_on_one = [&](const std::string& resource, std::int64_t need, std::int64_t most,
                                std::string message) {
    WaitReason& w = add(WaitCode::kInsufficient, std::move(message));
    w.resource = resource;
    w.needed = need;
    w.free = most;
    w.short_by = need - most;
  };
  if (r.num_gpu > 0 && r.gpu_memory_mib > most_gpu_memory) {
    short_on_one("gpu_memory_mib", r.gpu_memory_mib, most_gpu_memory,
                 "needs " + Mib(r.gpu_memory_mib) + " of GPU memory on one GPU, at most " +
                     Mib(most_gpu_memory) + " free");
  }
  if (most_cpu >= 0 && r.cpu_milli > most_cpu) {
    short_on_one("cpu_milli", r.cpu_milli, most_cpu,
                 "CPU is short: needs " + Cpu(r.cpu_milli) + ", at most " + Cpu(most_cpu) +
                     " free on a node that has the GPUs");
  }
  if (most_memory >= 0 && r.memory_mib > most_memory) {
    short_on_one("memory_mib", r.memory_mib, most_memory,
                 "memory is short: needs " + Mib(r.memory_mib) + ", at most " + Mib(most_memory) +
                     " free on a node that has the GPUs");
  }
  if (one_island && holdable < replicas && holdable_without_rule > holdable) {
    // Without the rule more replicas would fit now: the islands are what holds it back.
    WaitReason& w = add(
        WaitCode::kTopology,
        "needs " + std::to_string(r.num_gpu) + of_model + " GPUs free inside one NVLink island" +
            (replicas > 1 ? " for each of " + std::to_string(replicas) + " replicas" : "") +
            ", at most " + std::to_string(most_in_island) + " free in one island on any node (" +
            (replicas > 1
                 ? std::to_string(std::min<std::int64_t>(holdable_without_rule, replicas)) +
                       " of them would fit now without the rule"
                 : "it would fit now without the rule") +
            ")");
    w.resource = "gpus";
    w.replicas = replicas;
    w.needed = r.num_gpu;
    w.most_on_one = most_in_island;
  }
  if (replicas > 1 && holdable > 0 && holdable < replicas) {
    WaitReason& w = add(WaitCode::kGangIncomplete,
                        "gang of " + std::to_string(replicas) + " x (" + what +
                            ") not yet placeable: " + std::to_string(holdable) + " of " +
                            std::to_string(replicas) + " replicas fit now, all or none");
    w.replicas = replicas;
    w.replicas_fit = static_cast<int>(holdable);
  }
  if (out.empty() && holdable < replicas) {
    // Every resource is there somewhere, but no node has all of one replica's together.
    add(WaitCode::kFragmentation, replicas > 1 ? "gang of " + std::to_string(replicas) + " x (" +
                                                     what + ") not yet placeable, all or none"
                                               : "no node has " + what + " free together");
  }
  return out;
}

std::optional<WaitReason> Scheduler::QuotaReason(const JobRequest& r) const {
  const std::string& queue = r.queue;
  const double gpus = JobGpus(r);
  if (!queues_ || !queues_->Has(queue)) return std::nullopt;
  // A guarantee tied to models: the model it may run on with the most guarantee left decides.
  std::string model;
  if (queues_->HasModelGuarantees(queue)) {
    double best = -1;
    for (const std::string& m : AllowedModels(r.replica)) {
      const double left = queues_->GuaranteeLeft(queue, m);
      if (left > best) {
        best = left;
        model = m;
      }
    }
    if (model.empty() || queues_->WithinGuarantee(queue, gpus, model)) return std::nullopt;
  } else if (queues_->WithinGuarantee(queue, gpus)) {
    return std::nullopt;
  }
  const double used = queues_->Used(queue);
  const double guaranteed = queues_->spec(queue).guaranteed_gpus;
  WaitReason w;
  w.queue = queue;
  w.used_gpus = used;
  w.guaranteed_gpus = guaranteed;
  w.job_gpus = gpus;
  const std::string q = "queue '" + queue + "'";
  if (!model.empty()) {
    w.models = model;
    const double left = queues_->GuaranteeLeft(queue, model);
    if (left <= 1e-9) {
      w.code = WaitCode::kOverQuota;
      w.message = q + " has none of its guarantee left for GPUs of " + model + " (it uses " +
                  GpuCount(used) + " of its " + GpuCount(guaranteed) +
                  " guaranteed GPUs, some tied to models): the job's " + GpuCount(gpus) +
                  " GPUs would all be borrowed, so it waits for idle GPUs (it reclaims none)";
    } else {
      w.code = WaitCode::kWaitingToBorrow;
      w.message = q + " has " + GpuCount(left) + " guaranteed GPUs left for " + model +
                  ": the job asks for " + GpuCount(gpus) + ", so " + GpuCount(gpus - left) +
                  " would be borrowed, and it waits for idle GPUs";
    }
    return w;
  }
  if (used >= guaranteed) {
    w.code = WaitCode::kOverQuota;
    w.message = (guaranteed > 0 ? q + " uses " + GpuCount(used) + " of its " +
                                      GpuCount(guaranteed) + " guaranteed GPUs"
                                : q + " has no guarantee") +
                ": the job's " + GpuCount(gpus) +
                " GPUs would all be borrowed, so it waits for idle GPUs (it reclaims none)";
  } else {
    w.code = WaitCode::kWaitingToBorrow;
    w.message = q + " has " + GpuCount(guaranteed - used) + " of its " + GpuCount(guaranteed) +
                " guaranteed GPUs left: the job asks for " + GpuCount(gpus) + ", so " +
                GpuCount(used + gpus - guaranteed) +
                " would be borrowed, and it waits for idle GPUs";
  }
  return w;
}

std::vector<std::string> Scheduler::AllowedModels(const PodRequest& r) const {
  std::vector<std::string> out;
  if (r.num_gpu == 0) return out;
  for (int id = 0; id < models_.size(); ++id) {
    const auto m = static_cast<cluster::ModelId>(id);
    if (cluster::ModelAllowed(r.allowed_models, m)) out.push_back(models_.Name(m));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status Scheduler::CheckQueueModels(const queue::QueueSet& set) const {
  for (const queue::QueueSpec& q : set.specs()) {
    for (const auto& [model, share] : q.models) {
      if (!models_.Find(model)) {
        return Status::InvalidArgument("queue '" + q.name + "': models." + model +
                                       ": the pool has no GPUs of model '" + model +
                                       "' (it has: " + models_.Known() + ")");
      }
    }
  }
  return Status::Ok();
}

std::optional<cluster::ModelMask> Scheduler::ModelsUnderLimits(
    const queue::QueueSet& set, const JobRequest& r, const queue::ModelGpus& freed, bool empty,
    std::vector<WaitReason>* over) const {
  const cluster::ModelMask asked = r.replica.allowed_models;
  if (!set.any_model_limits() || r.replica.num_gpu == 0 || !set.Has(r.queue)) return asked;
  const double gpus = JobGpus(r);
  cluster::ModelMask under = 0;
  bool narrowed = false;
  for (int id = 0; id < models_.size(); ++id) {
    const auto m = static_cast<cluster::ModelId>(id);
    if (!cluster::ModelAllowed(asked, m)) continue;
    const std::string& name = models_.Name(m);
    const auto f = freed.find(name);
    const double back = f == freed.end() ? 0.0 : f->second;
    const std::string blocker = set.ModelLimitBlocker(r.queue, name, gpus - back, empty);
    if (blocker.empty()) {
      under |= cluster::ModelMask{1} << id;
      continue;
    }
    narrowed = true;
    if (over != nullptr) {
      WaitReason w;
      w.code = WaitCode::kOverLimit;
      w.queue = blocker;
      w.models = name;
      w.used_gpus = empty ? 0.0 : set.Used(blocker, name);
      w.limit_gpus = set.spec(blocker).models.at(name).limit_gpus;
      w.job_gpus = gpus;
      w.message = "queue '" + blocker + "' is at its limit for " + name + " (" +
                  GpuCount(*w.used_gpus) + " of " + GpuCount(*w.limit_gpus) + " " + name +
                  " GPUs in use)";
      over->push_back(std::move(w));
    }
  }
  if (!narrowed) return asked;
  if (under == 0) return std::nullopt;
  return under;
}

void Scheduler::FillQueueShares() {
  // The pool's capacity on nodes that take work, and each queue's use, in GPUs, CPU and memory.
  double gpus = 0, cpu = 0, mem = 0;
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    if (conditions_[i] == NodeCondition::kRemoved) continue;
    gpus += static_cast<double>(specs_[i].gpus.size());
    cpu += static_cast<double>(specs_[i].cpu_milli);
    mem += static_cast<double>(specs_[i].memory_mib);
  }
  struct Use {
    double gpus = 0, cpu = 0, mem = 0;
  };
  std::unordered_map<std::string, Use> use;
  for (const auto& [id, run] : running_) {
    const JobRequest& r = run.job.request;
    const double n = r.replicas;
    Use& u = use[r.queue];
    u.gpus += static_cast<double>(JobGpuMilli(r)) / 1000.0;
    u.cpu += static_cast<double>(r.replica.cpu_milli) * n;
    u.mem += static_cast<double>(r.replica.memory_mib) * n;
  }
  auto share = [](double used, double total) { return total > 0 ? used / total : 0.0; };
  std::unordered_map<std::string, double> dominant;
  for (const auto& [queue, u] : use) {
    const double weight = queues_ && queues_->Has(queue) ? queues_->spec(queue).weight : 1.0;
    dominant[queue] =
        std::max({share(u.gpus, gpus), share(u.cpu, cpu), share(u.mem, mem)}) / weight;
  }
  for (auto& [id, job] : pending_) {
    const auto it = dominant.find(job.request.queue);
    job.queue_share = it == dominant.end() ? 0.0 : it->second;
  }
}

CycleResult Scheduler::RunCycle(bool full) {
  CycleResult result;
  if (full) freed_ = true;
  MaybeRelearn();
  // Gang reservation: the most whole GPUs free on one schedulable node as the cycle starts (the
  // pool only fills in a cycle, so a single job asking for more fits nowhere in it: Wide).
  if (gang_reservation_) {
    most_free_gpus_ = 0;
    for (int n = 0; n < state_.num_nodes(); ++n) {
      const NodeState& node = state_.node(n);
      if (node.schedulable && !node.removed) {
        most_free_gpus_ = std::max(most_free_gpus_, static_cast<int>(node.num_free_gpus));
      }
    }
  }
  // Fits is monotone: a job that fitted nowhere in the last cycle fits nowhere now unless
  // something was freed since (a release, a node back in service). Without that, only the jobs
  // that arrived since are tried; the others keep their reasons.
  std::vector<const PendingJob*> order;
  // Strict order: the head that blocked the last cycle is tried again first (it may still fit
  // nowhere, and then nothing behind it goes); if it left the queue, everything is tried.
  if (strict_order_ && blocked_head_ != 0 && !pending_.contains(blocked_head_)) freed_ = true;
  // With queues, each queue has its own head (a queue's first job that does not fit blocks that
  // queue only); the heads are tried again as the single head is.
  const bool strict_queues = strict_order_ && queues_.has_value();
  for (const auto& [queue, job] : queue_heads_) {
    if (!pending_.contains(job)) freed_ = true;
  }
  // Gang reservation: the gangs that held a reservation are tried again first as well, so that
  // the arrivals ranked behind them meet them; if one left the queue, the jobs it held back go
  // again. (Strict order's reservations are its heads': tried again as heads.)
  std::vector<JobId> holders;
  if (!strict_order_) {
    for (const Reservation& r : reservations_) {
      holders.push_back(r.job);
      if (!pending_.contains(r.job)) freed_ = true;
    }
  }
  // A reservation lapsing, or a lapsed one coming back, changes what may start: everything again.
  if (reservation_timeout_s_ > 0) {
    std::erase_if(reserved_since_, [&](const auto& e) {
      return !pending_.contains(e.first) || now_s_ >= e.second + 2 * reservation_timeout_s_;
    });
    if (reservation_change_at_ && now_s_ >= *reservation_change_at_) freed_ = true;
  }
  if (freed_) {
    order.reserve(pending_.size());
    for (const auto& [id, job] : pending_) order.push_back(&job);
  } else {
    for (const JobId id : arrivals_) {
      if (const auto it = pending_.find(id); it != pending_.end()) order.push_back(&it->second);
    }
    if (strict_order_ && blocked_head_ != 0 &&
        std::find(arrivals_.begin(), arrivals_.end(), blocked_head_) == arrivals_.end()) {
      order.push_back(&pending_.at(blocked_head_));
    }
    for (const JobId holder : holders) {
      if (std::find(arrivals_.begin(), arrivals_.end(), holder) == arrivals_.end()) {
        order.push_back(&pending_.at(holder));
      }
    }
    for (const auto& [queue, job] : queue_heads_) {
      if (std::find(arrivals_.begin(), arrivals_.end(), job) == arrivals_.end()) {
        order.push_back(&pending_.at(job));
      }
    }
  }
  result.full = freed_;
  freed_ = false;
  arrivals_.clear();
  if (order_->ranks_queues()) FillQueueShares();
  order_->Sort(order);
  if (queues_ && !order_->ranks_queues()) {
    // Fair share across queues: the queue furthest below its weighted guarantee first (usage at
    // the start of the cycle), the order's own ranking inside a queue.
    std::unordered_map<std::string, double> ratio;
    for (const auto& q : queues_->specs()) ratio[q.name] = queues_->ShareRatio(q.name);
    std::vector<std::pair<double, const PendingJob*>> keyed;
    keyed.reserve(order.size());
    for (const PendingJob* j : order) keyed.emplace_back(ratio.at(j->request.queue), j);
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t k = 0; k < keyed.size(); ++k) order[k] = keyed[k].second;
  }
  result.considered = static_cast<int>(order.size());
  // QueuePosition's ranking: the full cycle's, or the arrivals after the last one's.
  if (result.full) ranked_.clear();
  std::unordered_set<JobId> heads;  // tried again, not arrivals: ranked by an earlier cycle
  for (const auto& [queue, job] : queue_heads_) heads.insert(job);
  for (const PendingJob* j : order) {
    if (result.full || (j->id != blocked_head_ && !heads.contains(j->id) &&
                        std::find(holders.begin(), holders.end(), j->id) == holders.end())) {
      ranked_.push_back(j->id);
    }
  }
  positions_stale_ = true;
  // A queue's limit: a job that would take its queue above it waits, whatever fits. Its other
  // reasons (does it fit at all?) are added at the end, once per shape.
  // Per-model limits narrow the models a job may land on to those under their limits (it is
  // charged by the model it lands on); a job with none left waits like one over its limit.
  std::vector<std::pair<const PendingJob*, std::vector<WaitReason>>> over_limit_jobs;
  std::unordered_map<JobId, cluster::ModelMask> narrowed;
  // Jobs held back because a job that may not be preempted does not borrow: preempting for one
  // helps only if its queue's use then falls inside its guarantee (see the preemption below).
  std::unordered_set<JobId> borrow_held;
  auto over_limit = [&](const PendingJob* j) {
    if (!queues_) return false;
    const double gpus = JobGpus(j->request);
    const std::string blocker = queues_->LimitBlocker(j->request.queue, gpus);
    if (blocker.empty()) {
      std::vector<WaitReason> over;
      const auto under = ModelsUnderLimits(*queues_, j->request, {}, /*empty=*/false, &over);
      if (!under) {
        over_limit_jobs.emplace_back(j, std::move(over));
        return true;
      }
      cluster::ModelMask mask = *under;
      // With preemption, what a queue borrows is taken back when its owner needs it; a job that
      // may not be preempted would hold it for as long as it runs, so it does not borrow. With
      // per-model guarantees it runs only on the models whose guarantee holds it.
      if (preemption_ && !j->request.preemptible) {
        const std::string& q = j->request.queue;
        if (queues_->HasModelGuarantees(q) && gpus > 0) {
          PodRequest allowed = j->request.replica;
          allowed.allowed_models = mask;
          cluster::ModelMask covered = 0;
          std::string models;
          for (const std::string& m : AllowedModels(allowed)) {
            models += (models.empty() ? "" : "|") + m;
            if (queues_->WithinGuarantee(q, gpus, m)) {
              covered |= cluster::ModelMask{1} << *models_.Find(m);
            }
          }
          if (covered == 0) {
            WaitReason w;
            w.code = WaitCode::kOverQuota;
            w.queue = q;
            w.models = models;
            w.used_gpus = queues_->Used(q);
            w.guaranteed_gpus = queues_->spec(q).guaranteed_gpus;
            w.job_gpus = gpus;
            w.message = "queue '" + q + "' has no guarantee left that holds the job's " +
                        GpuCount(gpus) + " GPUs on a GPU model it may run on (" + models +
                        "): a job that may not be preempted does not borrow (its owner could "
                        "not take it back), so it waits until its queue's guarantee holds it";
            over_limit_jobs.emplace_back(j, std::vector<WaitReason>{std::move(w)});
            borrow_held.insert(j->id);
            return true;
          }
          mask = covered;
        } else if (std::optional<WaitReason> quota = QuotaReason(j->request)) {
          quota->code = WaitCode::kOverQuota;
          quota->message = "queue '" + q + "' uses " + GpuCount(*quota->used_gpus) + " of its " +
                           GpuCount(*quota->guaranteed_gpus) +
                           " guaranteed GPUs and the job asks for " + GpuCount(gpus) +
                           ": a job that may not be preempted does not borrow (its owner could "
                           "not take it back), so it waits until its queue's guarantee holds it";
          over_limit_jobs.emplace_back(j, std::vector<WaitReason>{std::move(*quota)});
          borrow_held.insert(j->id);
          return true;
        }
      }
      if (mask != j->request.replica.allowed_models) narrowed[j->id] = mask;
      return false;
    }
    WaitReason w;
    w.code = WaitCode::kOverLimit;
    w.queue = blocker;
    w.used_gpus = queues_->Used(blocker);
    w.limit_gpus = queues_->spec(blocker).limit_gpus;
    w.job_gpus = gpus;
    w.message = "queue '" + blocker + "' is at its limit (" + GpuCount(*w.used_gpus) + " of " +
                GpuCount(*w.limit_gpus) + " GPUs in use)";
    over_limit_jobs.emplace_back(j, std::vector<WaitReason>{std::move(w)});
    return true;
  };
  // The replica as it is placed: narrowed to the models under their limits (and, for a job that
  // may not be preempted, to those whose guarantee holds it).
  auto replica_of = [&](const PendingJob* j) {
    PodRequest r = j->request.replica;
    if (const auto it = narrowed.find(j->id); it != narrowed.end()) r.allowed_models = it->second;
    return r;
  };

  std::unordered_map<ShapeKey, std::vector<JobId>, ShapeKeyHash> failed;
  std::vector<JobId> win_ids;
  std::vector<PodRequest> win_requests;
  std::vector<int> win_shapes;
  std::vector<int> win_waited;
  std::unordered_set<std::string> win_limited;  // the capped queues with a job in the window
  std::vector<char> committed;                  // 1: placed, 2: deferred
  std::vector<JobId> placed_ids;
  std::vector<JobId> deferred_ids;

  // Strict order: the first job that did not fit; gang reservation: the gang that reserves.
  JobId head = 0;
  // Strict order with queues: each queue's first job that did not fit (or that its limit held),
  // and the jobs of those queues behind it (not tried).
  std::unordered_map<std::string, JobId> heads_now;
  std::vector<JobId> behind;
  const auto blocked_queue = [&](const PendingJob* j) {
    if (!strict_queues || !heads_now.contains(j->request.queue)) return false;
    behind.push_back(j->id);
    return true;
  };
  const auto blocks = [&](const PendingJob* j) {
    if (strict_queues) heads_now.emplace(j->request.queue, j->id);
  };
  // The first job that does not fit stops the walk: strict order (with queues only with EASY
  // backfill, whose reservations follow), or a gang that may reserve.
  const bool easy_queues = strict_queues && easy_backfill_;
  const auto stops_walk = [&](const PendingJob* j) {
    return easy_queues || (!strict_queues && (strict_order_ || MayReserve(*j)));
  };
  std::vector<JobId> failed_in_order;  // the jobs that did not fit, in the order's order
  std::size_t i = 0;
  // A job its queue's limit holds back may still preempt lower-ranked jobs of its own queue.
  const bool limit_preempts = preemption_ && order_->preemptive();
  while (i < order.size() && head == 0) {
    const PendingJob* job = order[i];
    if (blocked_queue(job)) {
      ++i;
      continue;
    }
    if (over_limit(job)) {
      if (limit_preempts) failed_in_order.push_back(job->id);
      blocks(job);
      ++i;
      continue;
    }
    const ShapeKey key{replica_of(job), job->request.replicas};
    if (auto it = failed.find(key); it != failed.end()) {
      it->second.push_back(job->id);
      failed_in_order.push_back(job->id);
      blocks(job);
      if (stops_walk(job)) head = job->id;
      ++i;
      continue;
    }
    if (Wide(job->request)) {  // fits nowhere now: walked alone, as a gang, and may reserve
      failed[key].push_back(job->id);
      failed_in_order.push_back(job->id);
      blocks(job);
      if (stops_walk(job)) head = job->id;
      ++i;
      continue;
    }
    if (job->request.replicas > 1) {
      ++result.node_scans;
      if (auto p = PlaceGang(key.replica, job->request.replicas)) {
        placed_.emplace(job->id, *p);
        MarkRunning(job->id);
        placed_ids.push_back(job->id);
        result.placed.emplace_back(job->id, std::move(*p));
      } else {
        failed[key].push_back(job->id);
        failed_in_order.push_back(job->id);
        blocks(job);
        if (stops_walk(job)) head = job->id;
      }
      ++i;
      continue;
    }
    // One scheduling window: up to window_ consecutive single-replica jobs whose shape has not
    // failed in this cycle. A queue is charged when its job is placed, after the window, so a
    // window holds at most one job of a queue that a limit caps (its own or an ancestor's): the
    // next one is checked against its limit once the window's placements are charged.
    win_ids.clear();
    win_requests.clear();
    win_shapes.clear();
    win_limited.clear();
    while (i < order.size() && static_cast<int>(win_ids.size()) < window_) {
      const PendingJob* j = order[i];
      if (j->request.replicas > 1 || Wide(j->request)) break;
      if (blocked_queue(j)) {
        ++i;
        continue;
      }
      if (queues_ && queues_->Has(j->request.queue)) {
        const std::vector<std::string> capped = queues_->LimitedPath(j->request.queue);
        if (std::any_of(capped.begin(), capped.end(),
                        [&](const std::string& q) { return win_limited.contains(q); })) {
          break;
        }
        win_limited.insert(capped.begin(), capped.end());
      }
      if (over_limit(j)) {
        if (limit_preempts) failed_in_order.push_back(j->id);
        blocks(j);
        ++i;
        continue;
      }
      PodRequest replica = replica_of(j);
      if (auto it = failed.find(ShapeKey{replica, 1}); it != failed.end()) {
        it->second.push_back(j->id);
        failed_in_order.push_back(j->id);
        blocks(j);
        ++i;
        continue;
      }
      win_ids.push_back(j->id);
      win_shapes.push_back(placer_->ShapeId(replica));
      win_requests.push_back(replica);
      ++i;
    }
    if (win_ids.empty()) continue;
    committed.assign(win_ids.size(), 0);
    result.node_scans += static_cast<int>(win_ids.size());
    // Arrivals each job has waited; a job deferred max_defer_cycles_ times already must go now.
    win_waited.clear();
    for (const JobId id : win_ids) {
      const auto d = deferrals_.find(id);
      const bool spent =
          max_defer_cycles_ <= 0 || (d != deferrals_.end() && d->second >= max_defer_cycles_);
      const std::int64_t since = next_seq_ - 1 - pending_.at(id).seq;
      win_waited.push_back(spent ? window_ - 1
                                 : static_cast<int>(std::min<std::int64_t>(since, window_ - 1)));
    }
    placement::PlaceWindow(
        *placer_, win_requests, win_shapes, placement::WindowTiming{win_waited, window_, false},
        state_,
        [&](std::size_t idx, const cluster::Allocation& a) {
          GP_CHECK(state_.Allocate(a).ok());
          committed[idx] = 1;
          placed_.emplace(win_ids[idx], Placement{a});
          MarkRunning(win_ids[idx]);
          placed_ids.push_back(win_ids[idx]);
          result.placed.emplace_back(win_ids[idx], Placement{a});
        },
        [&](std::size_t idx) {
          committed[idx] = 2;
          ++deferrals_[win_ids[idx]];
          deferred_ids.push_back(win_ids[idx]);
        });
    for (std::size_t k = 0; k < win_ids.size(); ++k) {
      if (committed[k]) continue;
      failed[ShapeKey{win_requests[k], 1}].push_back(win_ids[k]);
      failed_in_order.push_back(win_ids[k]);
      blocks(&pending_.at(win_ids[k]));
      if (head == 0 && stops_walk(&pending_.at(win_ids[k]))) head = win_ids[k];
    }
  }
  if (strict_order_) {
    const JobId single = strict_queues ? 0 : head;  // with queues: queue_heads_
    if (blocked_head_ != single) waits_.erase(blocked_head_);
    blocked_head_ = single;
  }
  if (strict_queues) {
    // A head that no longer heads its queue keeps no stale reason; the jobs behind a head wait
    // for it alone (PendingReasons names it). With EASY backfill the walk below finds the heads
    // of the other queues (queue_heads_ is set after it).
    for (const auto& [queue, job] : queue_heads_) {
      if (const auto it = heads_now.find(queue); it == heads_now.end() || it->second != job) {
        waits_.erase(job);
      }
    }
    for (const JobId id : behind) waits_.erase(id);
  }
  reservations_.clear();
  if (head != 0 && (easy_backfill_ || !strict_order_)) {
    // Reservations in rank order, each against the pool as the earlier ones leave it (Reserve):
    // the EASY head's (strict order), each blocked queue's head's (strict order with queues), up
    // to max_reservations gangs' (gang reservation). Each later job that fits now goes if it
    // delays none of them (DelaysHold). A job whose reservation has lapsed holds nothing back.
    std::vector<Hold> holds;
    const auto reserve = [&](const PendingJob* j) {
      if (ReservationLapsed(j->id)) return;
      JobRequest as = j->request;
      as.replica = replica_of(j);
      holds.push_back(Reserve(j->id, as, holds));
      if (reservation_timeout_s_ > 0) reserved_since_.try_emplace(j->id, now_s_);
    };
    const auto gang_reserves = [&](const PendingJob* j) {
      return !strict_order_ && MayReserve(*j) && static_cast<int>(holds.size()) < max_reservations_;
    };
    reserve(&pending_.at(head));
    for (; i < order.size(); ++i) {
      const PendingJob* job = order[i];
      // With queues, a job of a queue whose head blocks it only passes by backfill; a job of a
      // queue not yet blocked that cannot start is its queue's head and reserves in turn.
      const bool blocked = easy_queues && heads_now.contains(job->request.queue);
      // The walk's checks (strict order without queues tries every job); the limits narrow the
      // models it may land on (replica_of) before its shape is known.
      if ((!strict_order_ || easy_queues) && over_limit(job)) {
        if (easy_queues && !blocked) blocks(job);  // a limit's head reserves nothing
        continue;
      }
      const ShapeKey key{replica_of(job), job->request.replicas};
      std::optional<Placement> p;
      const bool shape_failed = (!strict_order_ || easy_queues) && failed.contains(key);
      if (!shape_failed) {
        if (job->request.replicas > 1) {
          p = PlaceGang(key.replica, job->request.replicas);
        } else if (auto a = placer_->Place(key.replica, state_)) {
          GP_CHECK(state_.Allocate(*a).ok());
          p = Placement{*a};
        }
        ++result.node_scans;
      }
      if (!p) {
        // Fits nowhere now: behind a head, its reason is the head's; else its shape's. Behind a
        // gang's reservation it preempts nothing (not in failed_in_order): that would overtake
        // it; a queue's new head may reclaim, as the heads the walk found.
        if (!strict_order_) {
          failed[key].push_back(job->id);
          if (gang_reserves(job)) reserve(job);
        } else if (easy_queues && !blocked) {
          failed[key].push_back(job->id);
          failed_in_order.push_back(job->id);
          blocks(job);
          reserve(job);
        } else {
          waits_.erase(job->id);
        }
        continue;
      }
      if (const auto delayed = DelaysHold(*p, EndsBy(job->id, job->request, now_s_), holds)) {
        for (const auto& a : *p) GP_CHECK(state_.Release(a).ok());
        const Reservation& r = holds[*delayed].r;
        WaitReason w;
        w.code = WaitCode::kReservationAhead;
        w.message = "would delay job " + std::to_string(r.job) + ", which holds a reservation (" +
                    (strict_order_ ? "EASY backfill" : "gang reservation") + ")";
        w.job = r.job;
        if (std::isfinite(r.at)) w.reserved_at_s = r.at;
        waits_[job->id] = Wait{nullptr, {std::move(w)}};
        if (easy_queues && !blocked) {
          blocks(job);
          reserve(job);
        } else if (gang_reserves(job)) {
          reserve(job);
        }
        continue;
      }
      waits_.erase(job->id);
      placed_.emplace(job->id, *p);
      MarkRunning(job->id);
      placed_ids.push_back(job->id);
      result.placed.emplace_back(job->id, std::move(*p));
    }
    for (Hold& h : holds) reservations_.push_back(std::move(h.r));
  }
  if (strict_queues) queue_heads_ = std::move(heads_now);

  for (const JobId id : placed_ids) {
    pending_.erase(id);
    waits_.erase(id);
    deferrals_.erase(id);
    reserved_since_.erase(id);
  }
  // A deferred job fits now: the next cycle tries it again whatever is freed.
  for (const JobId id : deferred_ids) {
    WaitReason w;
    w.code = WaitCode::kWaitingForPartner;
    w.message = "fits, waiting for a job to share its GPU with (" + std::string(policy_->name()) +
                ", at most " + std::to_string(max_defer_cycles_) + " cycle(s))";
    waits_[id] = Wait{nullptr, {std::move(w)}};
    arrivals_.push_back(id);
  }
  result.deferred = static_cast<int>(deferred_ids.size());
  // The resource reasons, once per shape on the state the cycle ends with, shared by its jobs.
  std::unordered_map<ShapeKey, std::shared_ptr<const std::vector<WaitReason>>, ShapeKeyHash>
      shortfalls;
  const auto shortfall = [&](const ShapeKey& key) {
    auto [it, fresh] = shortfalls.try_emplace(key);
    if (fresh) {
      it->second =
          std::make_shared<const std::vector<WaitReason>>(Shortfall(key.replica, key.replicas));
    }
    return it->second;
  };
  for (const auto& [key, jobs] : failed) {
    std::shared_ptr<const std::vector<WaitReason>> shape = shortfall(key);
    if (shape->empty()) {  // the counts say it fits, yet the placement found no room
      WaitReason w;
      w.code = WaitCode::kTopology;
      w.message = "the free resources would hold it, but no placement meets its topology (" +
                  std::to_string(key.replicas) + " replica(s))";
      w.replicas = key.replicas;
      shape = std::make_shared<const std::vector<WaitReason>>(std::vector<WaitReason>{w});
    }
    const PendingJob& first = pending_.at(jobs.front());
    const std::optional<WaitReason> quota = QuotaReason(first.request);
    for (std::size_t k = 0; k < jobs.size(); ++k) {
      Wait wait{shape, {}};
      if (queues_) {
        const JobRequest& r = pending_.at(jobs[k]).request;
        if (k == 0 || r.queue != first.request.queue) {
          if (auto q = QuotaReason(r)) wait.own.push_back(std::move(*q));
        } else if (quota) {
          wait.own.push_back(*quota);
        }
      }
      if (k > 0) {  // its words are written when asked for, not for every job of every cycle
        wait.same_shape_first = jobs.front();
        wait.same_shape_ahead = static_cast<int>(k);
      }
      waits_[jobs[k]] = std::move(wait);
    }
  }
  for (auto& [job, limit] : over_limit_jobs) {
    Wait wait{nullptr, std::move(limit)};
    std::shared_ptr<const std::vector<WaitReason>> shape =
        shortfall(ShapeKey{job->request.replica, job->request.replicas});
    // Does it fit now, limit aside? (Borrowing does not matter: the limit caps it anyway.)
    if (!shape->empty()) wait.shape = std::move(shape);
    waits_[job->id] = std::move(wait);
  }
  // The reservation's own reasons: the job holding it (a strict head's only when it may lapse, as
  // before timeouts), and the jobs whose reservation lapsed.
  const auto set_reservation_reason = [&](JobId id) {
    const auto it = waits_.find(id);
    if (it == waits_.end()) return;
    std::erase_if(it->second.own, [](const WaitReason& w) {
      return w.code == WaitCode::kReserved || w.code == WaitCode::kReservationLapsed;
    });
    it->second.own.push_back(ReservationReason(id));
  };
  for (const Reservation& r : reservations_) set_reservation_reason(r.job);
  reservation_change_at_.reset();
  for (const auto& [id, since] : reserved_since_) {
    const bool lapsed = ReservationLapsed(id);
    if (lapsed) set_reservation_reason(id);
    const double at = since + (lapsed ? 2 : 1) * reservation_timeout_s_;
    if (!reservation_change_at_ || at < *reservation_change_at_) reservation_change_at_ = at;
  }
  // Preemption is possible when the order preempts or some queue borrows (reclaim).
  bool borrowing = false;
  if (queues_) {
    for (const auto& q : queues_->specs()) borrowing = borrowing || queues_->Borrowed(q.name) > 0;
  }
  // wait_for_victims: a job whose victims are still being stopped waits for them (it is not
  // placed and chooses no more victims).
  std::unordered_map<JobId, std::vector<JobId>> waiting_for;
  for (const auto& [victim, stop] : stopping_) waiting_for[stop.by].push_back(victim);
  if (preemption_ && !failed_in_order.empty() && (order_->preemptive() || borrowing)) {
    // The candidates: preemptible running jobs past their minimum run time and not already being
    // stopped, in the order they may be stopped (recomputed after each preemption).
    std::vector<PendingJob> views;
    std::vector<const PendingJob*> ranked;
    std::unordered_map<JobId, double> lost;  // lost work of each candidate
    // A job placed in this very cycle has not run: it is not a victim (the caller sees it placed).
    std::unordered_set<JobId> just_placed(placed_ids.begin(), placed_ids.end());
    auto rank_running = [&] {
      views.clear();
      lost.clear();
      for (const auto& [rid, run] : running_) {
        if (!run.job.request.preemptible || just_placed.contains(rid) || stopping_.contains(rid)) {
          continue;
        }
        if (now_s_ - run.since_s < min_run_s_) continue;
        views.push_back(RunningView(rid));
        lost[rid] = LostWork(rid);
      }
      ranked.clear();
      for (const auto& v : views) ranked.push_back(&v);
      order_->Sort(ranked);
      std::reverse(ranked.begin(), ranked.end());
    };
    // kLeastLostWork: least lost work first, ties in `jobs`' order (rank).
    auto by_lost_work = [&](std::vector<const PendingJob*> jobs) {
      if (victim_choice_ == VictimChoice::kLeastLostWork) {
        std::stable_sort(jobs.begin(), jobs.end(), [&](const PendingJob* a, const PendingJob* b) {
          return lost.at(a->id) < lost.at(b->id);
        });
      }
      return jobs;
    };
    // The state once the victims being stopped are gone (what a waiting job can count on).
    auto without_stopping = [&] {
      cluster::ClusterState base = state_;
      for (const auto& [victim, stop] : stopping_) {
        for (const auto& a : placed_.at(victim)) GP_CHECK(base.Release(a).ok());
      }
      return base;
    };
    rank_running();
    for (const JobId id : failed_in_order) {
      if (ranked.empty()) break;
      if (waiting_for.contains(id)) continue;
      const PendingJob& w = pending_.at(id);
      // The state without the victims being stopped, made when first needed.
      std::optional<cluster::ClusterState> stopped;
      auto base = [&]() -> const cluster::ClusterState& {
        if (stopping_.empty()) return state_;
        if (!stopped) stopped = without_stopping();
        return *stopped;
      };
      // Reclaim first: a job its queue's guarantee covers takes back borrowed GPUs. Otherwise the
      // order's preemption (Preempts is monotone in rank: a job that cannot preempt the lowest
      // ranked preempts none). A reclaim that had candidates but could not make room does not
      // fall back to the order.
      std::string reclaimed;  // what the reclaim took back, for the victims' reason ("": none)
      bool reclaim_tried = false;
      std::vector<JobId> victims;
      JobRequest place_as = w.request;
      if (queues_ && queues_->any_model_guarantees()) {
        // Per model: on each model the job may run on whose guarantee covers it (most guarantee
        // left first), only from queues that borrow that model and jobs wholly on it.
        for (const std::string& m : ReclaimModels(w.request)) {
          const std::vector<const PendingJob*> candidates =
              ReclaimCandidates(w.request.queue, by_lost_work(ranked), &m);
          if (candidates.empty()) continue;
          reclaim_tried = true;
          JobRequest on_model = w.request;
          on_model.replica.allowed_models = cluster::ModelMask{1} << *models_.Find(m);
          victims = ChooseVictims(id, on_model, candidates, base(), &place_as,
                                  /*inside_guarantee=*/borrow_held.contains(id));
          if (!victims.empty()) {
            reclaimed = "its guarantee of " + m;
            break;
          }
        }
      } else if (queues_ && queues_->WithinGuarantee(w.request.queue, JobGpus(w.request))) {
        const std::vector<const PendingJob*> candidates =
            ReclaimCandidates(w.request.queue, by_lost_work(ranked), nullptr);
        if (!candidates.empty()) {
          reclaim_tried = true;
          victims = ChooseVictims(id, w.request, candidates, base(), &place_as,
                                  /*inside_guarantee=*/borrow_held.contains(id));
          if (!victims.empty()) reclaimed = "its guarantee";
        }
      }
      if (!reclaim_tried) {
        std::vector<const PendingJob*> candidates;
        for (const PendingJob* r : ranked) {
          if (!order_->Preempts(w, *r)) break;
          // With queues the order preempts inside the job's own queue only: across queues the
          // guarantees decide (reclaim), or a queue's job would take a guaranteed share that its
          // owner then reclaims, and back again.
          if (queues_ && r->request.queue != w.request.queue) continue;
          candidates.push_back(r);
        }
        candidates = by_lost_work(std::move(candidates));
        // A job held back from borrowing still may not borrow once the victims are gone: they
        // are chosen so that its queue's use then falls inside its guarantee too. Otherwise they
        // would stop for nothing, be requeued onto the GPUs they left, and be preempted again.
        if (!candidates.empty()) {
          victims = ChooseVictims(id, w.request, candidates, base(), &place_as,
                                  /*inside_guarantee=*/borrow_held.contains(id));
        }
      }
      if (victims.empty()) continue;
      const PendingJob waiting = w;
      const std::string why =
          "preempted by job " + std::to_string(id) + " (" +
          (!reclaimed.empty() ? "queue '" + waiting.request.queue + "' reclaims " + reclaimed
                              : std::string(order_->name()) + " order") +
          ")";
      if (wait_for_victims_) {
        // The victims keep their GPUs until the caller has stopped them (Requeue); the waiting
        // job goes in a later cycle.
        for (const JobId v : victims) {
          stopping_[v] = Stopping{id, why};
          waiting_for[id].push_back(v);
          result.preempted.push_back(v);
        }
        rank_running();
        continue;
      }
      for (const JobId v : victims) {
        PendingJob back = RunningView(v);
        ++back.restarts;
        GP_CHECK(Release(v).ok());
        waits_[v] = Wait{nullptr, {PreemptedReason(id, why)}};
        std::erase(ranked_, v);  // its rank from before it ran is stale; the next cycle ranks it
        pending_.emplace(v, back);
        result.preempted.push_back(v);
      }
      // Placed as ChooseVictims found it fits: on the reclaimed model, under the model limits.
      std::optional<Placement> p;
      if (place_as.replicas > 1) {
        p = PlaceGang(place_as.replica, place_as.replicas);
      } else if (auto a = placer_->Place(place_as.replica, state_)) {
        GP_CHECK(state_.Allocate(*a).ok());
        p = Placement{*a};
      }
      GP_CHECK(p.has_value());  // ChooseVictims checked that it fits once they are gone
      placed_.emplace(id, *p);
      MarkRunning(id);
      pending_.erase(id);
      waits_.erase(id);
      deferrals_.erase(id);
      result.placed.emplace_back(id, std::move(*p));
      just_placed.insert(id);
      rank_running();
    }
  }
  for (auto& [id, victims] : waiting_for) {
    if (!pending_.contains(id)) continue;  // cancelled meanwhile: its victims stop all the same
    std::sort(victims.begin(), victims.end());
    std::string list;
    for (const JobId v : victims) list += (list.empty() ? "" : ", ") + std::to_string(v);
    // The one reason left: once they have stopped it fits (ChooseVictims checked).
    WaitReason w;
    w.code = WaitCode::kWaitingForVictims;
    w.message = "waiting for preempted job(s) " + list + " to stop";
    w.victims = victims;
    waits_[id] = Wait{nullptr, {std::move(w)}};
  }
  // A job placed by preemption no longer holds its reservation.
  std::erase_if(reservations_, [&](const Reservation& r) { return !pending_.contains(r.job); });
  return result;
}

bool Scheduler::ReservationLapsed(JobId id) const {
  if (reservation_timeout_s_ <= 0) return false;
  const auto it = reserved_since_.find(id);
  return it != reserved_since_.end() && now_s_ >= it->second + reservation_timeout_s_;
}

bool Scheduler::MayReserve(const PendingJob& job) const {
  return gang_reservation_ && (job.request.replicas > 1 || Wide(job.request)) &&
         !ReservationLapsed(job.id);
}

bool Scheduler::Wide(const JobRequest& r) const {
  return gang_reservation_ && reserve_wide_jobs_ && r.replicas == 1 &&
         r.replica.gpu_milli >= 1000 && r.replica.num_gpu > most_free_gpus_;
}

WaitReason Scheduler::ReservationReason(JobId id) const {
  const auto clock = [](double t) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", t);
    return std::string(buf);
  };
  WaitReason w;
  const auto since = reserved_since_.find(id);
  if (ReservationLapsed(id)) {
    w.code = WaitCode::kReservationLapsed;
    w.lapses_at_s = since->second + reservation_timeout_s_;
    w.reserve_again_at_s = since->second + 2 * reservation_timeout_s_;
    w.message = "its reservation lapsed at t " + clock(*w.lapses_at_s) + " (not started within " +
                clock(reservation_timeout_s_) + " s); it holds nothing back until t " +
                clock(*w.reserve_again_at_s) + ", then may reserve again";
    return w;
  }
  w.code = WaitCode::kReserved;
  const auto held = std::find_if(reservations_.begin(), reservations_.end(),
                                 [&](const Reservation& r) { return r.job == id; });
  const double at =
      held != reservations_.end() ? held->at : std::numeric_limits<double>::infinity();
  if (std::isfinite(at)) {
    w.reserved_at_s = at;
    // The nodes it will take then, per replica, and in words per node ("n1 (4 GPUs)").
    std::string where;
    for (const cluster::Allocation& a : held->nodes) {
      ReservedReplica& replica = w.reserved_nodes.emplace_back();
      replica.node = specs_[static_cast<std::size_t>(a.node)].name;
      for (std::uint32_t m = a.gpu_mask; m != 0; m &= m - 1) {
        replica.gpus.push_back(std::countr_zero(m));
      }
      where += (where.empty() ? " on " : ", ") + replica.node + " (" +
               std::to_string(replica.gpus.size()) + " GPUs)";
    }
    w.message = "holds a reservation to start at t " + clock(at) + where +
                " (when running jobs end by their time limits)";
  } else {
    w.message =
        "holds a reservation, but running jobs without a time limit hold what it needs "
        "(no start time known)";
  }
  if (since != reserved_since_.end()) {
    w.lapses_at_s = since->second + reservation_timeout_s_;
    w.message += "; it lapses at t " + clock(*w.lapses_at_s) + " if the job has not started";
  }
  return w;
}

double Scheduler::LatestEnd(JobId id) const {
  const Running& run = running_.at(id);
  const JobRequest& r = run.job.request;
  if (r.time_limit_s <= 0) return std::numeric_limits<double>::infinity();
  const double gpus = JobGpus(r);
  const double ran_before = gpus > 0 ? run.job.attained_gpu_s / gpus : 0.0;
  return run.since_s + static_cast<double>(r.time_limit_s) - ran_before;
}

namespace {

// Allocates every allocation of `p` on `s`, or none (false: one did not fit; `s` unchanged).
bool AddAll(cluster::ClusterState& s, const Placement& p) {
  for (std::size_t k = 0; k < p.size(); ++k) {
    if (!s.Allocate(p[k]).ok()) {
      for (std::size_t j = 0; j < k; ++j) GP_CHECK(s.Release(p[j]).ok());
      return false;
    }
  }
  return true;
}

// A necessary condition for `r` to fit on `s`, from the free whole GPUs alone (no copy of the
// state): false when the schedulable nodes cannot hold its replicas of whole GPUs even with
// nothing else in the way. Always true for shares and CPU-only requests.
bool MayFit(const JobRequest& r, const cluster::ClusterState& s) {
  if (r.replica.gpu_milli < 1000 || r.replica.num_gpu <= 0) return true;
  int holdable = 0;
  for (int n = 0; n < s.num_nodes() && holdable < r.replicas; ++n) {
    const NodeState& node = s.node(n);
    if (node.schedulable && !node.removed) holdable += node.num_free_gpus / r.replica.num_gpu;
  }
  return holdable >= r.replicas;
}

void ReleaseAll(cluster::ClusterState& s, const Placement& p) {
  for (const auto& a : p) GP_CHECK(s.Release(a).ok());
}

// Whether the reserved state of `g` holds the nodes of `h`: `h` has nodes and runs at g's
// reserved time (for a `g` without a time: for ever).
bool HeldAt(const Reservation& h, const Reservation& g) {
  if (h.job == g.job || !std::isfinite(h.at)) return false;
  return std::isfinite(g.at) ? h.at <= g.at && g.at < h.ends : !std::isfinite(h.ends);
}

}  // namespace

double Scheduler::EndsBy(JobId id, const JobRequest& r, double start) const {
  if (r.time_limit_s <= 0) return std::numeric_limits<double>::infinity();
  const auto it = pending_.find(id);
  const double attained = it == pending_.end() ? 0.0 : it->second.attained_gpu_s;
  const double gpus = JobGpus(r);
  return start + static_cast<double>(r.time_limit_s) - (gpus > 0 ? attained / gpus : 0.0);
}

Scheduler::Hold Scheduler::Reserve(JobId id, const JobRequest& request,
                                   std::vector<Hold>& holds) const {
  std::vector<std::pair<double, JobId>> ends;
  ends.reserve(running_.size());
  for (const auto& [rid, run] : running_) ends.emplace_back(LatestEnd(rid), rid);
  std::sort(ends.begin(), ends.end());
  // The candidate times: now, and every time the pool gains room (a running job's end by its
  // limit, an earlier reservation's end).
  std::vector<double> times{now_s_};
  for (const auto& [t, rid] : ends) {
    if (std::isfinite(t)) times.push_back(std::max(t, now_s_));
  }
  for (const Hold& h : holds) {
    if (std::isfinite(h.r.ends)) times.push_back(std::max(h.r.ends, now_s_));
  }
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  cluster::ClusterState s = state_;
  std::size_t k = 0;
  for (const double t : times) {
    for (; k < ends.size() && ends[k].first <= t; ++k) {
      for (const auto& a : placed_.at(ends[k].second)) GP_CHECK(s.Release(a).ok());
    }
    // Too few GPUs free at t even before the reservations that run then take theirs: no copy.
    if (!MayFit(request, s)) continue;
    Reservation r{id, t, EndsBy(id, request, t), {}};
    // The reservations that run at t take their nodes first.
    std::optional<cluster::ClusterState> with;
    bool held = true;
    for (const Hold& h : holds) {
      if (!HeldAt(h.r, r)) continue;
      if (!with) with = s;
      held = held && AddAll(*with, h.r.nodes);
    }
    if (!held) continue;
    std::optional<Placement> p = PlaceOn(request, with ? *with : s);
    if (!p) continue;
    r.nodes = std::move(*p);
    // Its nodes stay clear of every earlier reservation that starts before it would end.
    std::vector<std::size_t> added;
    bool clear = true;
    for (std::size_t j = 0; j < holds.size() && clear; ++j) {
      if (!HeldAt(r, holds[j].r)) continue;
      clear = AddAll(holds[j].at_state, r.nodes);
      if (clear) added.push_back(j);
    }
    if (!clear) {
      for (const std::size_t j : added) ReleaseAll(holds[j].at_state, r.nodes);
      continue;
    }
    cluster::ClusterState at_state = with ? std::move(*with) : s;
    GP_CHECK(AddAll(at_state, r.nodes));
    return Hold{std::move(r), request, std::move(at_state)};
  }
  // No time: running jobs without a limit hold what it needs. Every job with a limit ended, and
  // the earlier reservations that never end hold their nodes.
  Reservation r{
      id, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(), {}};
  for (const Hold& h : holds) {
    if (HeldAt(h.r, r)) static_cast<void>(AddAll(s, h.r.nodes));
  }
  return Hold{std::move(r), request, std::move(s)};
}

std::optional<std::size_t> Scheduler::DelaysHold(const Placement& p, double ends,
                                                 std::vector<Hold>& holds) const {
  // Running at a reservation's time (a job without a limit "ends" before a reservation without
  // a start time only when no timeout bounds that reservation: else it could hold the same GPUs
  // for ever).
  const auto overlaps = [&](const Hold& h) {
    return !(ends <= h.r.at && (std::isfinite(ends) || reservation_timeout_s_ <= 0));
  };
  // Most often every reservation it overlaps keeps its nodes beside it: add it to their states.
  std::vector<std::size_t> added;
  bool exact = true;
  for (std::size_t i = 0; i < holds.size() && exact; ++i) {
    Hold& h = holds[i];
    if (!overlaps(h)) continue;
    exact = std::isfinite(h.r.at) && AddAll(h.at_state, p);
    if (exact) added.push_back(i);
  }
  if (exact) return std::nullopt;
  for (const std::size_t i : added) ReleaseAll(holds[i].at_state, p);
  // Else, on a copy: a reservation whose nodes it would take moves to other nodes free at its
  // time beside it, if those are clear of the other reservations that run then.
  std::vector<Hold> trial = holds;
  for (std::size_t i = 0; i < trial.size(); ++i) {
    Hold& h = trial[i];
    if (!overlaps(h)) continue;
    if (!std::isfinite(h.r.at)) {  // no nodes known: it must still fit beside the job then
      if (!AddAll(h.at_state, p)) return i;
      if (!FitsOn(h.request, h.at_state)) return i;
      continue;
    }
    if (AddAll(h.at_state, p)) continue;
    cluster::ClusterState without = h.at_state;
    ReleaseAll(without, h.r.nodes);
    if (!AddAll(without, p)) return i;
    std::optional<Placement> moved = PlaceOn(h.request, without);
    if (!moved) return i;
    for (std::size_t j = 0; j < trial.size(); ++j) {
      if (j == i || !HeldAt(h.r, trial[j].r)) continue;
      ReleaseAll(trial[j].at_state, h.r.nodes);
      if (!AddAll(trial[j].at_state, *moved)) return i;
    }
    GP_CHECK(AddAll(without, *moved));
    h.at_state = std::move(without);
    h.r.nodes = std::move(*moved);
  }
  holds = std::move(trial);
  return std::nullopt;
}

std::optional<Placement> Scheduler::PlaceOn(const JobRequest& r,
                                            const cluster::ClusterState& s) const {
  cluster::ClusterState trial = s;
  Placement p;
  p.reserve(static_cast<std::size_t>(r.replicas));
  for (int k = 0; k < r.replicas; ++k) {
    const auto a = placer_->Place(r.replica, trial);
    if (!a || !trial.Allocate(*a).ok()) return std::nullopt;
    p.push_back(*a);
  }
  return p;
}

std::string_view NodeVerdictName(Scheduler::NodeVerdict v) {
  switch (v) {
    case Scheduler::NodeVerdict::kNow:
      return "now";
    case Scheduler::NodeVerdict::kAfterPreemption:
      return "after_preemption";
    case Scheduler::NodeVerdict::kLater:
      return "later";
    case Scheduler::NodeVerdict::kNever:
      return "never";
  }
  return "never";
}

std::vector<Scheduler::NodeVerdict> Scheduler::NodeVerdicts(const JobRequest& r) const {
  const PodRequest& p = r.replica;
  std::vector<NodeVerdict> out(static_cast<std::size_t>(state_.num_nodes()), NodeVerdict::kNever);
  // The waiting job as the order sees one submitted now: after every job known.
  PendingJob waiting;
  waiting.request = r;
  waiting.seq = std::numeric_limits<std::int64_t>::max();
  // Victims per node: the running jobs the order lets it stop (the candidates of the cycle's
  // preemption step, without reclaim).
  std::vector<std::vector<JobId>> victims(out.size());
  if (preemption_ && order_->preemptive()) {
    for (const auto& [rid, run] : running_) {
      if (!run.job.request.preemptible || stopping_.contains(rid)) continue;
      if (now_s_ - run.since_s < min_run_s_) continue;
      if (queues_ && run.job.request.queue != r.queue) continue;
      if (!order_->Preempts(waiting, RunningView(rid))) continue;
      for (const auto& a : placed_.at(rid)) {
        auto& v = victims[static_cast<std::size_t>(a.node)];
        if (std::find(v.begin(), v.end(), rid) == v.end()) v.push_back(rid);
      }
    }
  }
  std::optional<cluster::ClusterState> without;  // copied once, when a node has victims
  for (int i = 0; i < state_.num_nodes(); ++i) {
    const auto ui = static_cast<std::size_t>(i);
    if (conditions_[ui] == NodeCondition::kRemoved) continue;
    if (Holdable(p, empty_.node(i), 1) == 0) continue;  // kNever
    const bool takes_work = conditions_[ui] == NodeCondition::kReady;
    out[ui] = NodeVerdict::kLater;
    if (!takes_work) continue;
    if (Holdable(p, state_.node(i), 1) > 0) {
      out[ui] = NodeVerdict::kNow;
      continue;
    }
    if (victims[ui].empty()) continue;
    if (!without) without = state_;
    std::vector<cluster::Allocation> freed;
    for (const JobId v : victims[ui]) {
      for (const auto& a : placed_.at(v)) {
        if (a.node != i) continue;
        GP_CHECK(without->Release(a).ok());
        freed.push_back(a);
      }
    }
    if (Holdable(p, without->node(i), 1) > 0) out[ui] = NodeVerdict::kAfterPreemption;
    for (const auto& a : freed) GP_CHECK(without->Allocate(a).ok());
  }
  return out;
}

bool Scheduler::FitsOn(const JobRequest& r, const cluster::ClusterState& s) const {
  return PlaceOn(r, s).has_value();
}

std::vector<const PendingJob*> Scheduler::ReclaimCandidates(
    const std::string& queue, const std::vector<const PendingJob*>& ranked,
    const std::string* model) const {
  // Per model: only jobs wholly on GPUs of `model` (stopping one partly elsewhere would take
  // GPUs of another model), counted by those GPUs against what their queue borrows of it.
  const auto on_model = [&](JobId id) -> double {
    const queue::ModelGpus& by = running_.at(id).by_model;
    if (by.size() != 1 || by.begin()->first != *model) return -1;
    return by.begin()->second;
  };
  const auto gpus_of = [&](const PendingJob* r) {
    return model == nullptr ? JobGpus(r->request) : on_model(r->id);
  };
  // Borrowing queues, most borrowed first; inside each, `ranked`'s order (lowest ranked first).
  std::unordered_map<std::string, double> left;  // borrowed GPUs not yet chosen
  for (const PendingJob* r : ranked) {
    const std::string& q = r->request.queue;
    if (q != queue && queues_->Has(q) && !left.contains(q)) {
      left[q] = model == nullptr ? queues_->Borrowed(q) : queues_->Borrowed(q, *model);
    }
  }
  // What victims already being stopped give back counts as reclaimed.
  for (const auto& [victim, stop] : stopping_) {
    const auto run = running_.find(victim);
    if (run == running_.end()) continue;
    const auto it = left.find(run->second.job.request.queue);
    if (it == left.end()) continue;
    if (model == nullptr) {
      it->second -= JobGpus(run->second.job.request);
    } else if (const auto g = run->second.by_model.find(*model); g != run->second.by_model.end()) {
      it->second -= g->second;
    }
  }
  std::vector<std::pair<std::string, double>> by_borrowed(left.begin(), left.end());
  std::sort(by_borrowed.begin(), by_borrowed.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<const PendingJob*> out;
  for (const auto& [q, borrowed] : by_borrowed) {
    double still = borrowed;
    for (const PendingJob* r : ranked) {
      if (still <= 1e-9) break;
      if (r->request.queue != q) continue;
      const double gpus = gpus_of(r);
      if (gpus < 0) continue;  // not wholly on the model
      out.push_back(r);
      still -= gpus;
    }
  }
  return out;
}

std::vector<std::string> Scheduler::ReclaimModels(const JobRequest& r) const {
  std::vector<std::pair<double, std::string>> covered;
  for (const std::string& m : AllowedModels(r.replica)) {
    if (queues_->WithinGuarantee(r.queue, JobGpus(r), m)) {
      covered.emplace_back(queues_->GuaranteeLeft(r.queue, m), m);
    }
  }
  std::sort(covered.begin(), covered.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<std::string> out;
  out.reserve(covered.size());
  for (auto& [left, m] : covered) out.push_back(std::move(m));
  return out;
}

std::vector<JobId> Scheduler::ChooseVictims(JobId id, const JobRequest& request,
                                            const std::vector<const PendingJob*>& ranked,
                                            const cluster::ClusterState& base, JobRequest* place_as,
                                            bool inside_guarantee) const {
  const PendingJob& waiting = pending_.at(id);
  // Stop the candidates one by one, in their order, until the waiting job fits; then keep running
  // every victim it can do without (latest chosen first), so that exactly what is needed is freed.
  // With queues the waiting job must also keep within its queue's limits once the victims of its
  // own queue are gone (those of other queues free nothing of its limits); per-model limits
  // narrow the models it may land on the same way (the GPUs of each model its own queue's
  // victims give back).
  const double need = queues_ ? JobGpus(request) : 0;
  const bool own_queue = queues_.has_value();
  auto own = [&](JobId v) {
    return own_queue && running_.at(v).job.request.queue == waiting.request.queue
               ? JobGpus(running_.at(v).job.request)
               : 0.0;
  };
  // A job that may not borrow: its queue's use, less its own queue's victims, plus the job must
  // fall inside the guarantee (no victims can make that hold per model).
  const std::string& queue = waiting.request.queue;
  if (inside_guarantee && queues_->HasModelGuarantees(queue)) return {};
  auto within_limit = [&](double freed) {
    if (!queues_) return true;
    if (inside_guarantee &&
        queues_->Used(queue) - freed + need > queues_->spec(queue).guaranteed_gpus + 1e-9) {
      return false;
    }
    return queues_->LimitBlocker(queue, need - freed).empty();
  };
  queue::ModelGpus freed_by_model;  // of the waiting job's own queue, among the victims
  auto add_model_gpus = [&](JobId v, double sign) {
    if (!own_queue || running_.at(v).job.request.queue != waiting.request.queue) return;
    for (const auto& [model, gpus] : running_.at(v).by_model) freed_by_model[model] += sign * gpus;
  };
  // Whether it fits on `s` with `freed` of its queue's GPUs given back; sets *place_as.
  auto fits_on = [&](const cluster::ClusterState& s, double freed) {
    if (!within_limit(freed)) return false;
    if (!queues_ || !queues_->any_model_limits()) {
      if (!FitsOn(request, s)) return false;
      *place_as = request;
      return true;
    }
    const auto under = ModelsUnderLimits(*queues_, request, freed_by_model, false, nullptr);
    if (!under) return false;
    JobRequest r = request;
    r.replica.allowed_models = *under;
    if (!FitsOn(r, s)) return false;
    *place_as = std::move(r);
    return true;
  };
  cluster::ClusterState what_if = base;
  std::vector<JobId> victims;
  double freed = 0;  // GPUs of the waiting job's own queue among the victims
  bool fits = false;
  for (const PendingJob* v : ranked) {
    for (const auto& a : placed_.at(v->id)) GP_CHECK(what_if.Release(a).ok());
    victims.push_back(v->id);
    freed += own(v->id);
    add_model_gpus(v->id, 1);
    if (fits_on(what_if, freed)) {
      fits = true;
      break;
    }
  }
  if (!fits) return {};
  for (std::size_t k = victims.size(); k-- > 0;) {
    cluster::ClusterState keep = what_if;
    bool restored = true;
    for (const auto& a : placed_.at(victims[k])) restored = restored && keep.Allocate(a).ok();
    const double kept_freed = freed - own(victims[k]);
    add_model_gpus(victims[k], -1);
    if (restored && fits_on(keep, kept_freed)) {
      what_if = std::move(keep);
      freed = kept_freed;
      victims.erase(victims.begin() + static_cast<std::ptrdiff_t>(k));
    } else {
      add_model_gpus(victims[k], 1);
    }
  }
  // The last fits_on that held is the set kept: *place_as is for it (a failed try leaves it).
  return victims;
}

void Scheduler::AddNodeTotals(int i, PoolTotals& t) const {
  const auto c = conditions_[static_cast<std::size_t>(i)];
  const NodeState& n = state_.node(i);
  const std::uint32_t unhealthy = n.unhealthy_gpus;
  for (int g = 0; g < n.num_gpus; ++g) {
    // What jobs hold, also on a lost GPU (whose NodeState shows nothing left).
    const int left = 1000 - state_.gpu_used_milli(i, g);
    ++t.gpus;
    t.capacity_milli += 1000;
    t.allocated_milli += 1000 - left;
    if (left == 0) {
      ++t.gpus_whole_allocated;
    } else if (left < 1000) {
      ++t.gpus_shared;
    } else {
      ++t.gpus_free;
    }
    if (c != NodeCondition::kReady || ((unhealthy >> g) & 1U) != 0) ++t.gpus_unusable;
  }
  if (c == NodeCondition::kReady && !workload_.classes.empty()) {
    t.fragmented_milli += placement::NodeFragment(workload_, n);
  }
}

PoolTotals Scheduler::Totals() const {
  PoolTotals t;
  for (int i = 0; i < state_.num_nodes(); ++i) {
    if (conditions_[static_cast<std::size_t>(i)] == NodeCondition::kRemoved) continue;
    AddNodeTotals(i, t);
  }
  return t;
}

std::map<std::string, PoolTotals> Scheduler::TotalsByModel() const {
  std::map<std::string, PoolTotals> out;
  for (int i = 0; i < state_.num_nodes(); ++i) {
    if (conditions_[static_cast<std::size_t>(i)] == NodeCondition::kRemoved) continue;
    const NodeState& n = state_.node(i);
    if (n.num_gpus == 0) continue;
    AddNodeTotals(i, out[models_.Name(n.model)]);
  }
  return out;
}

}  // namespace gpupool::scheduler
