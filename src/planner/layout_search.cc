#include "planner/layout_search.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

namespace gpupool::planner {
namespace {

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

auto LayoutKey(const Layout& l) {
  return std::make_tuple(l.tp, l.pp, l.cp, l.ep, l.vp, l.zero, static_cast<int>(l.recompute),
                         l.micro_batch);
}

bool Better(const RankedLayout& a, const RankedLayout& b) {
  if (a.estimate.step_seconds != b.estimate.step_seconds) {
    return a.estimate.step_seconds < b.estimate.step_seconds;
  }
  if (a.estimate.memory.total_gib != b.estimate.memory.total_gib) {
    return a.estimate.memory.total_gib < b.estimate.memory.total_gib;
  }
  return LayoutKey(a.estimate.layout) < LayoutKey(b.estimate.layout);
}

}  // namespace

SearchResult SearchLayouts(const ModelProfile& prof, const hw::GpuModel& gpu, int gpus,
                           const SearchOptions& so) {
  const ModelSpec& m = prof.spec;
  SearchResult r;
  r.gpus = gpus;
  const int64_t seq = so.base.seq;
  const int64_t global_batch = std::max<int64_t>(1, so.global_batch_tokens / seq);
  const int node = std::max(1, so.base.fabric.gpus_per_node);
  auto discard = [&](const Layout& l, std::string why) {
    if (so.keep_discarded) r.discarded.push_back(Discarded{l, std::move(why)});
  };

  // Shape checks that rule out a whole family of layouts are recorded once, with the family's
  // first member as the example.
  auto family = [&](int tp, int cp, int pp, int ep) {
    Layout l;
    l.tp = tp;
    l.cp = cp;
    l.pp = pp;
    l.ep = ep;
    l.dp = gpus / std::max(1, tp * cp * pp);
    ++r.evaluated;
    return l;
  };
  std::vector<int> tps;
  for (int tp = 1; tp <= node && tp <= gpus; tp *= 2) {
    if (gpus % tp != 0) continue;
    if (m.num_heads % tp != 0) {
      discard(family(tp, 1, 1, 1), "tp " + std::to_string(tp) + " does not divide the " +
                                       std::to_string(m.num_heads) + " heads");
      continue;
    }
    if (!m.mla.enabled && m.num_kv_heads % tp != 0 && tp % m.num_kv_heads != 0) {
      discard(family(tp, 1, 1, 1), "tp " + std::to_string(tp) + " and the " +
                                       std::to_string(m.num_kv_heads) +
                                       " KV heads neither divide the other");
      continue;
    }
    tps.push_back(tp);
  }
  std::vector<int> eps{1};
  if (m.IsMoe()) {
    for (int ep = 2; ep <= m.moe.num_experts; ep *= 2) {
      if (m.moe.num_experts % ep == 0) eps.push_back(ep);
    }
  }
  const Recompute recomputes[] = {Recompute::kNone, Recompute::kSelective, Recompute::kFull};
  TrainOptions o = so.base;
  o.gpus = gpus;
  o.global_batch = global_batch;
  for (int tp : tps) {
    for (int cp : {1, 2, 4, 8}) {
      if (gpus % (tp * cp) != 0) continue;
      if (seq % cp != 0) {
        discard(family(tp, cp, 1, 1), "cp " + std::to_string(cp) + " does not divide the sequence");
        continue;
      }
      for (int pp = 1; pp <= gpus / (tp * cp); ++pp) {
        if (gpus % (tp * cp * pp) != 0) continue;
        if (pp > m.num_layers || m.num_layers % pp != 0) {
          discard(family(tp, cp, pp, 1), "pp " + std::to_string(pp) + " does not divide the " +
                                             std::to_string(m.num_layers) + " layers");
          continue;
        }
        const int dp = gpus / (tp * cp * pp);
        for (int ep : eps) {
          if ((int64_t{dp} * cp) % ep != 0) {
            discard(family(tp, cp, pp, ep),
                    "ep " + std::to_string(ep) +
                        " does not divide dp x cp = " + std::to_string(int64_t{dp} * cp));
            continue;
          }
          for (int vp : {1, 2}) {
            if (vp > 1 && (pp == 1 || m.num_layers % (pp * vp) != 0)) continue;
            for (int mb : {1, 2, 4}) {
              Layout l;
              l.tp = tp;
              l.cp = cp;
              l.pp = pp;
              l.dp = dp;
              l.ep = ep;
              l.vp = vp;
              l.micro_batch = mb;
              if (global_batch % (int64_t{dp} * mb) != 0) {
                ++r.evaluated;
                discard(l, "global batch " + std::to_string(global_batch) +
                               " is not a multiple of dp x micro-batch = " +
                               std::to_string(int64_t{dp} * mb));
                continue;
              }
              for (int zero = 0; zero <= 3; ++zero) {
                for (Recompute rc : recomputes) {
                  // With flash attention, selective recompute stores what "none" stores.
                  if (rc == Recompute::kSelective && o.flash_attention) continue;
                  l.zero = zero;
                  l.recompute = rc;
                  o.layout = l;
                  ++r.evaluated;
                  auto e = EstimateTraining(prof, gpu, o);
                  if (!e) {
                    discard(l, e.error().message());
                    continue;
                  }
                  if (!e->fits) {
                    discard(l, "needs " + Fixed(e->memory.total_gib, 1) + " GiB per GPU of " +
                                   Fixed(e->memory_budget_gib, 0) + " (stage " +
                                   std::to_string(e->heaviest_stage) + ")");
                    continue;
                  }
                  r.ranked.push_back(RankedLayout{std::move(*e)});
                }
              }
            }
          }
        }
      }
    }
  }
  std::sort(r.ranked.begin(), r.ranked.end(), Better);
  if (so.max_ranked > 0 && r.ranked.size() > so.max_ranked) r.ranked.resize(so.max_ranked);
  return r;
}

std::vector<int> CandidateGpuCounts(int gpus_per_node, int max_gpus) {
  std::vector<int> out;
  const int64_t node = std::max(1, gpus_per_node);
  for (int64_t n = 1; n < node && n <= max_gpus; n *= 2) out.push_back(static_cast<int>(n));
  // Whole nodes: 1, 2, 3, 4, 6, 8, 12, 16, ... (p and 1.5 p nodes).
  for (int64_t p = 1; p * node <= max_gpus; p *= 2) {
    out.push_back(static_cast<int>(p * node));
    if (p >= 2 && (p + p / 2) * node <= max_gpus)
      out.push_back(static_cast<int>((p + p / 2) * node));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void RecommendInterconnect(const ModelProfile& prof, const hw::GpuModel& gpu,
                           const TrainOptions& options, const LinkTier& roce,
                           const LinkTier& infiniband, std::string& choice, std::string& reason) {
  if (options.gpus <= options.fabric.gpus_per_node) {
    choice = "NVLink only";
    reason = "all " + std::to_string(options.gpus) + " GPUs sit in one node";
    return;
  }
  TrainOptions with_roce = options;
  with_roce.fabric.scale_out = roce;
  TrainOptions with_ib = options;
  with_ib.fabric.scale_out = infiniband;
  auto r = EstimateTraining(prof, gpu, with_roce);
  auto i = EstimateTraining(prof, gpu, with_ib);
  if (!r || !i) {
    choice = "InfiniBand";
    reason = "layout could not be evaluated on both fabrics";
    return;
  }
  const double gain = r->step_seconds / i->step_seconds - 1.0;
  const std::string share = Fixed(100.0 * r->inter_node_comm_seconds / r->step_seconds, 1);
  if (gain < 0.05) {
    choice = "RoCE";
    reason = "inter-node communication is " + share + " % of the step over " + roce.name + "; " +
             infiniband.name + " would be " + Fixed(100.0 * gain, 1) + " % faster";
  } else {
    choice = "InfiniBand";
    reason = "inter-node communication is " + share + " % of the step over " + roce.name + "; " +
             infiniband.name + " makes the step " + Fixed(100.0 * gain, 1) + " % faster";
  }
}

TrainGoalResult FewestGpusForTraining(const ModelProfile& prof, const hw::GpuModel& gpu,
                                      const TrainGoal& goal, const SearchOptions& so,
                                      const LinkTier& roce, const LinkTier& infiniband) {
  TrainGoalResult out;
  SearchOptions opts = so;
  opts.base.tokens = goal.tokens;
  for (int n : CandidateGpuCounts(so.base.fabric.gpus_per_node, goal.max_gpus)) {
    SearchResult r = SearchLayouts(prof, gpu, n, opts);
    if (r.ranked.empty()) {
      int64_t memory = 0;
      const Discarded* other = nullptr;
      for (const Discarded& d : r.discarded) {
        if (d.reason.rfind("needs ", 0) == 0) {
          ++memory;
        } else if (other == nullptr) {
          other = &d;
        }
      }
      std::string why = "no feasible layout of " + std::to_string(r.evaluated) + ": " +
                        std::to_string(memory) + " do not fit in memory";
      if (other != nullptr) {
        why += ", " + std::to_string(int64_t(r.discarded.size()) - memory) +
               " do not divide (e.g. " + other->reason + ")";
      }
      out.tried.push_back({n, why});
      continue;
    }
    const double best_days = r.ranked.front().estimate.days;
    if (best_days > goal.days) {
      out.tried.push_back(
          {n, "fastest layout takes " + Fixed(best_days, 1) + " days > " + Fixed(goal.days, 1)});
      continue;
    }
    // Layouts that fit but miss the deadline are discarded with that reason.
    std::vector<RankedLayout> kept;
    for (auto& rl : r.ranked) {
      if (rl.estimate.days <= goal.days) {
        kept.push_back(std::move(rl));
      } else if (opts.keep_discarded) {
        r.discarded.push_back({rl.estimate.layout, "takes " + Fixed(rl.estimate.days, 2) +
                                                       " days > " + Fixed(goal.days, 2)});
      }
    }
    r.ranked = std::move(kept);
    out.tried.push_back({n, "meets the goal in " + Fixed(best_days, 1) + " days"});
    out.found = true;
    TrainOptions chosen = opts.base;
    chosen.gpus = n;
    chosen.layout = r.ranked.front().estimate.layout;
    chosen.global_batch = r.ranked.front().estimate.global_batch;
    RecommendInterconnect(prof, gpu, chosen, roce, infiniband, out.interconnect,
                          out.interconnect_reason);
    out.best = std::move(r);
    return out;
  }
  return out;
}

ServeGoalResult FewestGpusForServing(const ModelSpec& m, const hw::GpuModel& gpu,
                                     const InferOptions& options, int max_tp) {
  ServeGoalResult out;
  for (int tp = 1; tp <= max_tp; tp *= 2) {
    InferOptions o = options;
    o.tp = tp;
    auto e = EstimateInference(m, gpu, o);
    if (!e) {
      out.tried.push_back({tp, e.error().message()});
      continue;
    }
    if (!e->fits) {
      out.tried.push_back({tp, "needs " + Fixed(e->total_gib_per_gpu, 1) + " GiB per GPU of " +
                                   Fixed(e->budget_gib_per_gpu, 1)});
      continue;
    }
    out.tried.push_back({tp, "fits with " + Fixed(e->total_gib_per_gpu, 1) + " GiB per GPU"});
    out.ranked.push_back(ServeLayout{tp, std::move(*e)});
    if (!out.found) {
      out.found = true;
      // Also show the next two degrees for latency, then stop.
      for (int more = tp * 2; more <= std::min(max_tp, tp * 4); more *= 2) {
        InferOptions o2 = options;
        o2.tp = more;
        auto e2 = EstimateInference(m, gpu, o2);
        if (e2 && e2->fits) out.ranked.push_back(ServeLayout{more, std::move(*e2)});
      }
      break;
    }
  }
  return out;
}

}  // namespace gpupool::planner
