#include "server/plan_request.h"

#include <algorithm>
#include <system_error>

#include "planner/inference_estimate.h"
#include "planner/layout_search.h"
#include "planner/model_loader.h"
#include "planner/plan_json.h"

namespace gpupool::server {
namespace {

using nlohmann::json;

ApiResult<std::string> Text(const json& body, const std::string& member) {
  const json& v = body[member];
  if (!v.is_string() || v.get<std::string>().empty()) {
    return Fail(BadRequest(member, member + ": must be a non-empty string, not " +
                                       (v.is_string() ? "\"\"" : std::string(v.type_name()))));
  }
  return v.get<std::string>();
}

ApiResult<std::int64_t> Whole(const json& body, const std::string& member, std::int64_t hi) {
  const json& v = body[member];
  if (!v.is_number_integer()) {
    return Fail(BadRequest(member, member + ": must be a whole number, not " + v.dump()));
  }
  // A parsed non-negative number is unsigned: both bounds checked in its own type.
  const bool in_range =
      v.is_number_unsigned()
          ? v.get<std::uint64_t>() >= 1 && v.get<std::uint64_t>() <= static_cast<std::uint64_t>(hi)
          : v.get<std::int64_t>() >= 1 && v.get<std::int64_t>() <= hi;
  if (!in_range) {
    return Fail(
        BadRequest(member, member + ": " + v.dump() + " is not in 1.." + std::to_string(hi)));
  }
  return v.get<std::int64_t>();
}

}  // namespace

ApiResult<PlanQuery> ParsePlanQuery(const json& body) {
  if (!body.is_object()) {
    return Fail(
        BadRequest("", std::string("the body must be a JSON object, not ") + body.type_name()));
  }
  static const char* const kMembers[] = {"model",   "config", "gpu",   "precision",
                                         "context", "batch",  "queue", "priority"};
  for (const auto& [key, value] : body.items()) {
    if (std::find(std::begin(kMembers), std::end(kMembers), key) == std::end(kMembers)) {
      return Fail(BadRequest(key, key + ": unknown member (model, config, gpu, precision, "
                                        "context, batch, queue, priority)"));
    }
  }
  PlanQuery q;
  if (body.contains("model") == body.contains("config")) {
    return Fail(BadRequest("model",
                           "model: give a preset name (or config: a config.json "
                           "document), one of the two"));
  }
  if (body.contains("model")) {
    auto m = Text(body, "model");
    if (!m) return Fail(m.error());
    std::error_code ec;
    if (std::filesystem::exists(*m, ec)) {
      return Fail(BadRequest("model", "model: '" + *m +
                                          "' is a path; give a preset name, or the config.json "
                                          "document as config"));
    }
    q.in.model = *m;
  } else {
    if (!body["config"].is_object()) {
      return Fail(BadRequest("config", std::string("config: must be a config.json object, not ") +
                                           body["config"].type_name()));
    }
    q.config = body["config"];
  }
  for (const char* member : {"gpu", "precision", "queue"}) {
    if (!body.contains(member)) continue;
    auto t = Text(body, member);
    if (!t) return Fail(t.error());
    (std::string(member) == "gpu"         ? q.in.gpu
     : std::string(member) == "precision" ? q.in.precision
                                          : q.queue) = *t;
  }
  if (body.contains("context")) {
    auto c = Whole(body, "context", 10'000'000);
    if (!c) return Fail(c.error());
    q.context = *c;
  }
  if (body.contains("batch")) {
    auto b = Whole(body, "batch", 100'000);
    if (!b) return Fail(b.error());
    q.batch = static_cast<int>(*b);
  }
  if (body.contains("priority")) {
    const json& v = body["priority"];
    // An unsigned value is over the range when it does not fit a signed one (then get<int64>
    // would wrap).
    const bool in_range = v.is_number_integer() &&
                          !(v.is_number_unsigned() && v.get<std::uint64_t>() > 1'000'000) &&
                          v.get<std::int64_t>() >= -1'000'000 && v.get<std::int64_t>() <= 1'000'000;
    if (!in_range) {
      return Fail(BadRequest("priority",
                             "priority: must be a whole number in -1000000..1000000, "
                             "not " +
                                 v.dump()));
    }
    q.priority = v.get<int>();
  }
  return q;
}

ApiResult<json> PlanPresets(const std::filesystem::path& models_dir) {
  auto presets = planner::ListPresets(models_dir);
  if (!presets) return Fail(FromStatus(presets.error()));
  json list = json::array();
  for (const auto& p : *presets) {
    list.push_back({{"name", p.name}, {"aliases", p.aliases}, {"params", p.published_total}});
  }
  return json{{"models", std::move(list)}};
}

ApiResult<json> RunPlan(const PlanQuery& q, const std::filesystem::path& models_dir) {
  std::string member;
  Result<planner::ResolvedPlan> r = Error(Status::Internal("unset"));
  if (q.config) {
    auto spec = planner::ParseHfConfig(*q.config, "config");
    if (!spec) return Fail(BadRequest("config", spec.error().message()));
    r = planner::ResolvePlan(std::move(*spec), q.in, &member);
  } else {
    r = planner::ResolvePlan(q.in, models_dir, &member);
  }
  if (!r) {
    // "shape" and "network" are not members of this API: the model's shape is the model's.
    if (member != "gpu" && member != "precision") member = q.config ? "config" : "model";
    return Fail(BadRequest(member, member + ": " + r.error().message()));
  }
  planner::InferOptions o;
  if (q.batch > 0) o.batch = q.batch;
  if (q.context > 0) o.context = q.context;
  o.precision = r->infer_precision;
  o.checkpoint_weights = r->checkpoint_weights;
  o.fabric = r->fabric;
  o.kernels = r->kernels;  // as `gpupool plan infer` and the serve search take them
  const planner::ServeGoalResult s = planner::FewestGpusForServing(r->model, *r->gpu, o);
  json out = {{"found", s.found},
              {"model", r->model.name},
              {"gpu", r->gpu->name},
              {"batch", o.batch},
              {"context", o.context},
              {"tried", json::array()},
              {"warnings", r->model.warnings},
              {"plan", nullptr},
              {"gpus", nullptr},
              {"request", nullptr},
              {"submit", nullptr}};
  for (const auto& t : s.tried) out["tried"].push_back({{"tp", t.gpus}, {"outcome", t.outcome}});
  if (!s.found) return out;
  const planner::ServeLayout& best = s.ranked.front();
  planner::InferOptions lo = o;
  lo.tp = best.tp;
  out["gpus"] = best.tp;
  out["plan"] = planner::InferJson(r->model, *r->gpu, lo, best.estimate);
  auto request = planner::PlanJobRequest(best.tp, best.tp, *r, best.estimate.total_gib_per_gpu);
  if (!request) return Fail(BadRequest("gpu", "gpu: " + request.error().message()));
  out["request"] = *request;
  json submit = {{"gpus", request->at("num_gpu")},
                 {"gpu_models", request->at("gpu_models")},
                 {"gpu_memory_mib", request->at("gpu_memory_mib")},
                 {"replicas", request->value("replicas", 1)}};
  if (!q.queue.empty()) submit["queue"] = q.queue;
  if (q.priority) submit["priority"] = *q.priority;
  out["submit"] = submit;
  return out;
}

}  // namespace gpupool::server
