#include "server/job_spec.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "cluster/node_spec.h"
#include "common/strings.h"

namespace gpupool::server {
namespace {

using nlohmann::json;

constexpr std::int64_t kMaxCpuMilli = 100'000'000;    // 100,000 cores
constexpr std::int64_t kMaxMemoryMib = 1LL << 40;     // 1 EiB
constexpr std::int64_t kMaxGpuMemoryMib = 1LL << 30;  // 1 PiB per GPU
constexpr std::int64_t kMaxTimeLimitS = 366LL * 24 * 3600;
constexpr int kMaxPriority = 1'000'000;
constexpr int kMaxReplicas = 4096;

const std::vector<std::string>& KnownMembers() {
  static const std::vector<std::string> k = {
      "name",         "command",     "env",        "workdir",  "gpus",  "gpu_memory_mib",
      "gpu_models",   "cpu_milli",   "memory_mib", "replicas", "queue", "priority",
      "time_limit_s", "preemptible", "requeue",    "topology"};
  return k;
}

std::string TypeName(const json& v) { return v.type_name(); }

ApiError WrongType(const std::string& member, const char* want, const json& v) {
  return BadRequest(member, member + ": must be " + want + ", not " + TypeName(v));
}

// An integer member in [lo, hi]; a JSON number with a fraction is refused.
ApiResult<std::int64_t> Integer(const json& v, const std::string& member, std::int64_t lo,
                                std::int64_t hi) {
  std::int64_t x = 0;
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) {
      return Fail(BadRequest(
          member, member + ": " + v.dump() + " is over the limit " + std::to_string(hi)));
    }
    x = v.get<std::int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9e15) {
      return Fail(BadRequest(member, member + ": " + v.dump() + " is not a whole number"));
    }
    x = static_cast<std::int64_t>(d);
  } else {
    return Fail(WrongType(member, "an integer", v));
  }
  if (x < lo) {
    return Fail(BadRequest(
        member,
        member + ": " + std::to_string(x) +
            (x < 0 && lo >= 0 ? " is negative" : " is below the minimum " + std::to_string(lo))));
  }
  if (x > hi) {
    return Fail(BadRequest(
        member, member + ": " + std::to_string(x) + " is over the limit " + std::to_string(hi)));
  }
  return x;
}

ApiResult<std::string> String(const json& v, const std::string& member, std::size_t max_len) {
  if (!v.is_string()) return Fail(WrongType(member, "a string", v));
  std::string s = v.get<std::string>();
  if (s.size() > max_len) {
    return Fail(
        BadRequest(member, member + ": longer than " + std::to_string(max_len) + " characters"));
  }
  if (s.find('\0') != std::string::npos) {
    return Fail(BadRequest(member, member + ": contains a NUL character"));
  }
  return s;
}

ApiResult<bool> Bool(const json& v, const std::string& member) {
  if (!v.is_boolean()) return Fail(WrongType(member, "true or false", v));
  return v.get<bool>();
}

bool ValidEnvName(const std::string& k) {
  if (k.empty() || std::isdigit(static_cast<unsigned char>(k[0]))) return false;
  return std::all_of(k.begin(), k.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

// The pool models a requested name matches (see the header).
std::vector<std::string> MatchModels(const std::string& want,
                                     const std::vector<std::string>& models) {
  const std::string w = Lower(want);
  std::vector<std::string> out;
  for (const auto& m : models) {
    const std::string l = Lower(m);
    if (l == w || (l.size() > w.size() && l.compare(0, w.size(), w) == 0 && l[w.size()] == '-')) {
      out.push_back(m);
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

ApiResult<JobSpec> ParseSubmission(const json& body, const std::vector<std::string>& models,
                                   bool check_workdir) {
  if (!body.is_object()) {
    return Fail(BadRequest("", "the body must be a JSON object, not " + TypeName(body)));
  }
  for (const auto& [key, value] : body.items()) {
    const auto& known = KnownMembers();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Fail(BadRequest(key, key + ": unknown member (known: " + Join(known) + ")"));
    }
  }
  JobSpec s;
  // command
  if (!body.contains("command")) return Fail(BadRequest("command", "command: required"));
  const json& cmd = body["command"];
  if (!cmd.is_array()) return Fail(WrongType("command", "an array of strings", cmd));
  if (cmd.empty())
    return Fail(BadRequest("command", "command: empty; give the program and its arguments"));
  if (cmd.size() > kMaxCommandArgs) {
    return Fail(BadRequest("command",
                           "command: more than " + std::to_string(kMaxCommandArgs) + " arguments"));
  }
  for (std::size_t i = 0; i < cmd.size(); ++i) {
    const std::string member = "command[" + std::to_string(i) + "]";
    auto arg = String(cmd[i], member, 1 << 16);
    if (!arg) return Fail(arg.error());
    if (i == 0 && arg->empty()) return Fail(BadRequest(member, member + ": empty program name"));
    s.command.push_back(std::move(*arg));
  }
  // name
  if (body.contains("name")) {
    auto n = String(body["name"], "name", kMaxNameLength);
    if (!n) return Fail(n.error());
    s.name = *n;
  }
  if (s.name.empty()) s.name = std::filesystem::path(s.command[0]).filename().string();
  // env
  if (body.contains("env")) {
    const json& env = body["env"];
    if (!env.is_object()) return Fail(WrongType("env", "an object of strings", env));
    if (env.size() > kMaxEnvVars) {
      return Fail(
          BadRequest("env", "env: more than " + std::to_string(kMaxEnvVars) + " variables"));
    }
    std::map<std::string, std::string> sorted;
    for (const auto& [k, v] : env.items()) {
      const std::string member = "env." + k;
      if (!ValidEnvName(k)) {
        return Fail(BadRequest(
            member,
            member +
                ": not a valid variable name (letters, digits, _; not starting with a digit)"));
      }
      if (k == "CUDA_VISIBLE_DEVICES" || k.starts_with("GPUPOOL_")) {
        return Fail(BadRequest(member, member + ": set by gpupool from the job's placement"));
      }
      auto value = String(v, member, 1 << 16);
      if (!value) return Fail(value.error());
      sorted[k] = *value;
    }
    s.env.assign(sorted.begin(), sorted.end());
  }
  // workdir
  if (body.contains("workdir")) {
    auto w = String(body["workdir"], "workdir", 4096);
    if (!w) return Fail(w.error());
    if (!w->empty()) {
      if (!std::filesystem::path(*w).is_absolute()) {
        return Fail(BadRequest("workdir", "workdir: '" + *w + "' is not an absolute path"));
      }
      std::error_code ec;
      if (check_workdir && !std::filesystem::is_directory(*w, ec)) {
        return Fail(BadRequest("workdir", "workdir: '" + *w + "' is not a directory on this host"));
      }
    }
    s.workdir = *w;
  }
  // gpus
  if (body.contains("gpus")) {
    const json& g = body["gpus"];
    if (!g.is_number()) return Fail(WrongType("gpus", "a number", g));
    const double x = g.get<double>();
    if (!std::isfinite(x)) return Fail(BadRequest("gpus", "gpus: not a finite number"));
    if (x < 0) return Fail(BadRequest("gpus", "gpus: " + g.dump() + " is negative"));
    if (x > cluster::kMaxGpusPerNode) {
      return Fail(BadRequest("gpus", "gpus: " + g.dump() + " is over " +
                                         std::to_string(cluster::kMaxGpusPerNode) +
                                         " per replica; ask for more replicas"));
    }
    if (x > 0 && x < 1) {
      const double milli = x * 1000;
      const double rounded = std::round(milli);
      if (std::fabs(milli - rounded) > 1e-6 || rounded < 1) {
        return Fail(BadRequest("gpus", "gpus: " + g.dump() + " is not a multiple of 0.001"));
      }
      s.num_gpu = 1;
      s.gpu_milli = static_cast<std::int32_t>(rounded);
    } else if (x >= 1) {
      if (x != std::floor(x)) {
        return Fail(
            BadRequest("gpus", "gpus: " + g.dump() + ": more than one GPU must be a whole number"));
      }
      s.num_gpu = static_cast<std::int32_t>(x);
      s.gpu_milli = 1000;
    }
  }
  if (body.contains("gpu_memory_mib")) {
    auto m = Integer(body["gpu_memory_mib"], "gpu_memory_mib", 0, kMaxGpuMemoryMib);
    if (!m) return Fail(m.error());
    if (*m > 0 && s.num_gpu == 0) {
      return Fail(BadRequest("gpu_memory_mib", "gpu_memory_mib: asked without GPUs (set gpus)"));
    }
    s.gpu_memory_mib = *m;
  }
  if (body.contains("gpu_models")) {
    const json& gm = body["gpu_models"];
    if (!gm.is_array()) return Fail(WrongType("gpu_models", "an array of strings", gm));
    if (!gm.empty() && s.num_gpu == 0) {
      return Fail(BadRequest("gpu_models", "gpu_models: given without GPUs (set gpus)"));
    }
    std::set<std::string> chosen;
    for (std::size_t i = 0; i < gm.size(); ++i) {
      const std::string member = "gpu_models[" + std::to_string(i) + "]";
      auto name = String(gm[i], member, 128);
      if (!name) return Fail(name.error());
      const auto matched = MatchModels(*name, models);
      if (matched.empty()) {
        return Fail(BadRequest(member, member + ": unknown GPU model '" + *name +
                                           "' (the pool has: " + Join(models) + ")"));
      }
      chosen.insert(matched.begin(), matched.end());
    }
    s.gpu_models.assign(chosen.begin(), chosen.end());
  }
  if (body.contains("topology")) {
    auto t = String(body["topology"], "topology", 64);
    if (!t) return Fail(t.error());
    const auto parsed = ParseTopology(*t);
    if (!parsed) {
      return Fail(
          BadRequest("topology", "topology: '" + *t + "' is not a topology (known: any, nvlink)"));
    }
    s.require_nvlink = *parsed;
  }
  if (body.contains("cpu_milli")) {
    auto c = Integer(body["cpu_milli"], "cpu_milli", 0, kMaxCpuMilli);
    if (!c) return Fail(c.error());
    s.cpu_milli = *c;
  }
  if (body.contains("memory_mib")) {
    auto m = Integer(body["memory_mib"], "memory_mib", 0, kMaxMemoryMib);
    if (!m) return Fail(m.error());
    s.memory_mib = *m;
  }
  if (body.contains("replicas")) {
    auto r = Integer(body["replicas"], "replicas", 1, kMaxReplicas);
    if (!r) return Fail(r.error());
    s.replicas = static_cast<int>(*r);
  }
  if (body.contains("queue")) {
    auto q = String(body["queue"], "queue", 64);
    if (!q) return Fail(q.error());
    if (!ValidQueueName(*q)) {
      return Fail(BadRequest(
          "queue", "queue: '" + *q + "' is not a queue name (1-64 of a-z, 0-9, '-', '_', '.')"));
    }
    s.queue = *q;
  }
  if (body.contains("priority")) {
    auto p = Integer(body["priority"], "priority", -kMaxPriority, kMaxPriority);
    if (!p) return Fail(p.error());
    s.priority = static_cast<int>(*p);
  }
  if (body.contains("time_limit_s")) {
    auto t = Integer(body["time_limit_s"], "time_limit_s", 0, kMaxTimeLimitS);
    if (!t) return Fail(t.error());
    s.time_limit_s = *t;
  }
  if (body.contains("preemptible")) {
    auto b = Bool(body["preemptible"], "preemptible");
    if (!b) return Fail(b.error());
    s.preemptible = *b;
  }
  if (body.contains("requeue")) {
    auto b = Bool(body["requeue"], "requeue");
    if (!b) return Fail(b.error());
    s.requeue = *b;
  }
  return s;
}

std::optional<bool> ParseTopology(const std::string& name) {
  if (name == "any") return false;
  if (name == "nvlink") return true;
  return std::nullopt;
}

const char* TopologyName(bool require_nvlink) { return require_nvlink ? "nvlink" : "any"; }

double GpusValue(const JobSpec& spec) {
  if (spec.num_gpu == 0) return 0;
  if (spec.gpu_milli < 1000) return spec.gpu_milli / 1000.0;
  return spec.num_gpu;
}

json SpecToJson(const JobSpec& s) {
  json env = json::object();
  for (const auto& [k, v] : s.env) env[k] = v;
  return json{{"name", s.name},
              {"command", s.command},
              {"env", env},
              {"workdir", s.workdir},
              {"resources",
               {{"gpus", GpusValue(s)},
                {"num_gpu", s.num_gpu},
                {"gpu_milli", s.gpu_milli},
                {"gpu_memory_mib", s.gpu_memory_mib},
                {"gpu_models", s.gpu_models},
                {"cpu_milli", s.cpu_milli},
                {"memory_mib", s.memory_mib},
                {"replicas", s.replicas},
                {"topology", TopologyName(s.require_nvlink)}}},
              {"queue", s.queue},
              {"priority", s.priority},
              {"time_limit_s", s.time_limit_s},
              {"preemptible", s.preemptible},
              {"requeue", s.requeue}};
}

Result<JobSpec> SpecFromJson(const json& j) {
  try {
    JobSpec s;
    s.name = j.at("name").get<std::string>();
    s.command = j.at("command").get<std::vector<std::string>>();
    for (const auto& [k, v] : j.at("env").items()) s.env.emplace_back(k, v.get<std::string>());
    s.workdir = j.at("workdir").get<std::string>();
    const json& r = j.at("resources");
    s.num_gpu = r.at("num_gpu").get<std::int32_t>();
    s.gpu_milli = r.at("gpu_milli").get<std::int32_t>();
    s.gpu_memory_mib = r.at("gpu_memory_mib").get<std::int64_t>();
    s.gpu_models = r.at("gpu_models").get<std::vector<std::string>>();
    s.cpu_milli = r.at("cpu_milli").get<std::int64_t>();
    s.memory_mib = r.at("memory_mib").get<std::int64_t>();
    s.replicas = r.at("replicas").get<int>();
    // Absent in what a version before topology stored: "any".
    if (r.contains("topology")) {
      const std::string t = r.at("topology").get<std::string>();
      const auto parsed = ParseTopology(t);
      if (!parsed) {
        return Error(
            Status::InvalidArgument("job spec: resources.topology: unknown topology '" + t + "'"));
      }
      s.require_nvlink = *parsed;
    }
    s.queue = j.at("queue").get<std::string>();
    s.priority = j.at("priority").get<int>();
    s.time_limit_s = j.at("time_limit_s").get<std::int64_t>();
    s.preemptible = j.at("preemptible").get<bool>();
    s.requeue = j.at("requeue").get<bool>();
    return s;
  } catch (const json::exception& e) {
    return Error(Status::InvalidArgument(std::string("job spec: ") + e.what()));
  }
}

Result<scheduler::JobRequest> ToJobRequest(const JobSpec& s, const cluster::ModelTable& models) {
  scheduler::JobRequest r;
  r.replica.cpu_milli = s.cpu_milli;
  r.replica.memory_mib = s.memory_mib;
  r.replica.num_gpu = s.num_gpu;
  r.replica.gpu_milli = s.gpu_milli;
  r.replica.gpu_memory_mib = s.gpu_memory_mib;
  r.replica.require_nvlink = s.require_nvlink;
  for (const auto& m : s.gpu_models) {
    const auto id = models.Find(m);
    if (!id) {
      return Error(Status::InvalidArgument(
          "gpu_models: '" + m + "' is not in the pool (it has: " + models.Known() + ")"));
    }
    r.replica.allowed_models |= cluster::ModelMask{1} << *id;
  }
  r.replicas = s.replicas;
  r.priority = s.priority;
  r.queue = s.queue;
  r.preemptible = s.preemptible;
  r.time_limit_s = s.time_limit_s;
  return r;
}

bool ValidQueueName(const std::string& q) {
  if (q.empty() || q.size() > 64) return false;
  return std::all_of(q.begin(), q.end(), [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace gpupool::server
