#include "client_request.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace gpupool::app {
namespace {

using json = nlohmann::json;

// Amounts are parsed as integers in thousandths, never through double: "0.5" -> 500 exactly.
// Accepts "12", "12.", "12.5", "0.125"; at most 3 decimals and 12 integer digits (no overflow).
std::optional<std::int64_t> ParseMilli(std::string_view text) {
  std::size_t i = 0;
  std::int64_t whole = 0;
  int whole_digits = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (++whole_digits > 12) return std::nullopt;
    whole = whole * 10 + (text[i] - '0');
    ++i;
  }
  std::int64_t frac = 0;
  int frac_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (++frac_digits > 3) return std::nullopt;
      frac = frac * 10 + (text[i] - '0');
      ++i;
    }
  }
  if (i != text.size() || whole_digits + frac_digits == 0) return std::nullopt;
  for (int d = frac_digits; d < 3; ++d) frac *= 10;
  return whole * 1000 + frac;
}

Status Bad(std::string_view flag, std::string_view text, std::string_view what) {
  return Status::InvalidArgument(std::string(flag) + ": '" + std::string(text) + "' " +
                                 std::string(what));
}

}  // namespace

Result<std::int64_t> ParseSizeMib(std::string_view text, std::string_view flag) {
  constexpr std::string_view kWhat =
      "is not a size (e.g. 20G = 20480 MiB, 512M; a plain number is MiB)";
  std::size_t unit_at = 0;
  while (unit_at < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[unit_at])) || text[unit_at] == '.')) {
    ++unit_at;
  }
  const auto amount = ParseMilli(text.substr(0, unit_at));
  if (!amount) return Error(Bad(flag, text, kWhat));
  const std::string unit = Lower(text.substr(unit_at));
  std::int64_t mib_per_unit = 0;
  if (unit.empty() || unit == "m" || unit == "mi" || unit == "mib" || unit == "mb") {
    mib_per_unit = 1;
  } else if (unit == "g" || unit == "gi" || unit == "gib" || unit == "gb") {
    mib_per_unit = 1024;
  } else if (unit == "t" || unit == "ti" || unit == "tib" || unit == "tb") {
    mib_per_unit = std::int64_t{1024} * 1024;
  } else {
    return Error(Bad(flag, text, kWhat));
  }
  const std::int64_t milli_mib = *amount * mib_per_unit;
  if (milli_mib % 1000 != 0) return Error(Bad(flag, text, "is not a whole number of MiB"));
  return milli_mib / 1000;
}

Result<std::int64_t> ParseDurationSeconds(std::string_view text, std::string_view flag) {
  constexpr std::string_view kWhat =
      "is not a duration (e.g. 90s, 30m, 2h, 1d, 1h30m; a plain number is seconds)";
  if (text.empty()) return Error(Bad(flag, text, kWhat));
  std::int64_t total = 0;
  std::size_t i = 0;
  bool plain = true;
  while (i < text.size()) {
    std::int64_t n = 0;
    int digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (++digits > 9) return Error(Bad(flag, text, kWhat));
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (digits == 0) return Error(Bad(flag, text, kWhat));
    std::int64_t unit = 1;
    if (i < text.size()) {
      plain = false;
      switch (text[i]) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        default:
          return Error(Bad(flag, text, kWhat));
      }
      ++i;
    } else if (!plain) {
      return Error(Bad(flag, text, kWhat));  // "1h30": a number without a unit after a unit
    }
    total += n * unit;
  }
  if (total <= 0) return Error(Bad(flag, text, "must be longer than 0 seconds"));
  return total;
}

Result<std::int64_t> ParseGpuMilli(std::string_view text, std::string_view flag) {
  const auto milli = ParseMilli(text);
  if (!milli) {
    return Error(
        Bad(flag, text, "is not a GPU amount (a whole count like 2, or a share like 0.5)"));
  }
  if (*milli > 1000 && *milli % 1000 != 0) {
    return Error(
        Bad(flag, text, "is neither a whole count of GPUs nor a share of one GPU (below 1)"));
  }
  return *milli;
}

Result<std::int64_t> ParseCpuMilli(std::string_view text, std::string_view flag) {
  std::optional<std::int64_t> milli;
  if (!text.empty() && text.back() == 'm') {
    const auto m = ParseMilli(text.substr(0, text.size() - 1));
    if (m && *m % 1000 == 0) milli = *m / 1000;
  } else {
    milli = ParseMilli(text);
  }
  if (!milli) return Error(Bad(flag, text, "is not a CPU amount (e.g. 4, 0.5 or 500m)"));
  return *milli;
}

json GpusJson(std::int64_t milli) {
  if (milli % 1000 == 0) return milli / 1000;
  return static_cast<double>(milli) / 1000.0;
}

Result<json> BuildSubmitBody(const SubmitFlags& f, const json& base,
                             const std::filesystem::path& cwd) {
  json body = base.is_object() ? base : json::object();
  if (f.command.empty() || f.command.front().empty()) {
    return Error(Status::InvalidArgument(
        "no command: put it after `--`, e.g. gpupool submit --gpus 1 -- python3 train.py"));
  }
  body["command"] = f.command;
  if (!f.name.empty()) body["name"] = f.name;
  if (!f.env.empty()) {
    json env = json::object();
    for (const auto& kv : f.env) {
      const std::size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Error(Bad("--env", kv, "is not KEY=VALUE"));
      }
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    body["env"] = env;
  }
  if (!f.workdir.empty()) {
    std::filesystem::path dir(f.workdir);
    if (dir.is_relative()) dir = cwd / dir;
    body["workdir"] = dir.lexically_normal().string();
  }
  if (!f.gpus.empty()) {
    auto milli = ParseGpuMilli(f.gpus, "--gpus");
    if (!milli) return Error(milli.error());
    body["gpus"] = GpusJson(*milli);
  }
  if (!f.gpu_memory.empty()) {
    auto mib = ParseSizeMib(f.gpu_memory, "--gpu-memory");
    if (!mib) return Error(mib.error());
    body["gpu_memory_mib"] = *mib;
  }
  if (!f.models.empty()) {
    json models = json::array();
    for (const auto& item : f.models) {
      for (const std::string_view m : Split(item, ',')) {
        if (m.empty()) return Error(Bad("--model", item, "has an empty model name"));
        models.push_back(std::string(m));
      }
    }
    body["gpu_models"] = models;
  }
  if (!f.cpu.empty()) {
    auto milli = ParseCpuMilli(f.cpu, "--cpu");
    if (!milli) return Error(milli.error());
    body["cpu_milli"] = *milli;
  }
  if (!f.memory.empty()) {
    auto mib = ParseSizeMib(f.memory, "--memory");
    if (!mib) return Error(mib.error());
    body["memory_mib"] = *mib;
  }
  if (f.replicas) {
    if (*f.replicas < 1) {
      return Error(Bad("--replicas", std::to_string(*f.replicas), "must be 1 or more"));
    }
    body["replicas"] = *f.replicas;
  }
  if (!f.queue.empty()) body["queue"] = f.queue;
  if (f.priority) body["priority"] = *f.priority;
  if (!f.time.empty()) {
    auto s = ParseDurationSeconds(f.time, "--time");
    if (!s) return Error(s.error());
    body["time_limit_s"] = *s;
  }
  if (f.preemptible) body["preemptible"] = true;
  if (f.requeue) body["requeue"] = true;
  if (f.nvlink) body["topology"] = "nvlink";
  return body;
}

Result<json> PlanToBody(const json& plan, std::string_view source) {
  const std::string at = std::string(source) + ": ";
  if (!plan.is_object()) {
    return Error(Status::InvalidArgument(at + "expected the JSON object that `gpupool plan ... "
                                              "--emit-request` writes"));
  }
  static constexpr std::string_view kKnown[] = {"num_gpu",        "gpu_milli", "gpu_models",
                                                "gpu_memory_mib", "cpu_milli", "memory_mib",
                                                "replicas"};
  for (const auto& [key, value] : plan.items()) {
    bool known = false;
    for (auto k : kKnown) known |= (key == k);
    if (!known) {
      return Error(Status::InvalidArgument(
          at + key +
          ": unknown member (known: num_gpu, gpu_milli, gpu_models, gpu_memory_mib, cpu_milli, "
          "memory_mib, replicas)"));
    }
  }
  auto integer = [&](const char* member, std::int64_t fallback) -> Result<std::int64_t> {
    if (!plan.contains(member)) return fallback;
    const auto& v = plan.at(member);
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0) {
      return Error(Status::InvalidArgument(at + member + ": expected a non-negative integer, got " +
                                           v.dump()));
    }
    return v.get<std::int64_t>();
  };
  if (!plan.contains("num_gpu")) return Error(Status::InvalidArgument(at + "num_gpu: missing"));
  auto num = integer("num_gpu", 0);
  if (!num) return Error(num.error());
  auto milli = integer("gpu_milli", *num > 0 ? 1000 : 0);
  if (!milli) return Error(milli.error());
  json body = json::object();
  if (*num == 0) {
    if (*milli != 0) {
      return Error(Status::InvalidArgument(at + "gpu_milli: " + std::to_string(*milli) +
                                           " with num_gpu 0 (a share is num_gpu 1)"));
    }
    body["gpus"] = 0;
  } else if (*milli == 1000) {
    body["gpus"] = *num;
  } else if (*num == 1 && *milli > 0 && *milli < 1000) {
    body["gpus"] = GpusJson(*milli);
  } else {
    return Error(Status::InvalidArgument(
        at + "gpu_milli: " + std::to_string(*milli) + " with num_gpu " + std::to_string(*num) +
        " (whole GPUs are gpu_milli 1000; a share below 1000 is for num_gpu 1)"));
  }
  if (plan.contains("gpu_models")) {
    const auto& models = plan.at("gpu_models");
    if (!models.is_array()) {
      return Error(Status::InvalidArgument(at + "gpu_models: expected an array of model names"));
    }
    for (std::size_t i = 0; i < models.size(); ++i) {
      if (!models[i].is_string()) {
        return Error(Status::InvalidArgument(at + "gpu_models[" + std::to_string(i) +
                                             "]: expected a string, got " + models[i].dump()));
      }
    }
    body["gpu_models"] = models;
  }
  for (const char* member : {"gpu_memory_mib", "cpu_milli", "memory_mib"}) {
    if (!plan.contains(member)) continue;
    auto v = integer(member, 0);
    if (!v) return Error(v.error());
    body[member] = *v;
  }
  if (plan.contains("replicas")) {
    auto v = integer("replicas", 1);
    if (!v) return Error(v.error());
    if (*v < 1) return Error(Status::InvalidArgument(at + "replicas: must be 1 or more"));
    body["replicas"] = *v;
  }
  return body;
}

Result<json> LoadPlanFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Error(Status::IoError("--plan: cannot read " + path.string()));
  std::stringstream text;
  text << in.rdbuf();
  json plan;
  try {
    plan = json::parse(text.str());
  } catch (const json::parse_error& e) {
    return Error(Status::InvalidArgument(path.string() + ": not JSON: " + e.what()));
  }
  return PlanToBody(plan, path.string());
}

std::string FlagForMember(std::string_view member) {
  const std::string top(member.substr(0, member.find_first_of(".[")));
  static constexpr std::pair<std::string_view, std::string_view> kFlags[] = {
      {"gpus", "--gpus"},
      {"gpu_memory_mib", "--gpu-memory"},
      {"gpu_models", "--model"},
      {"cpu_milli", "--cpu"},
      {"memory_mib", "--memory"},
      {"replicas", "--replicas"},
      {"queue", "--queue"},
      {"priority", "--priority"},
      {"time_limit_s", "--time"},
      {"name", "--name"},
      {"env", "--env"},
      {"workdir", "--workdir"},
      {"preemptible", "--preemptible"},
      {"requeue", "--requeue"},
      {"topology", "--nvlink"},
      {"command", "the command after --"}};
  for (const auto& [m, flag] : kFlags) {
    if (top == m) return std::string(flag);
  }
  return "";
}

Result<std::int64_t> ParseJobId(std::string_view text, std::string_view what) {
  std::int64_t id = 0;
  if (text.empty() || text.size() > 18) return Error(Bad(what, text, "is not a job id"));
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return Error(Bad(what, text, "is not a job id"));
    id = id * 10 + (c - '0');
  }
  if (id <= 0) return Error(Bad(what, text, "is not a job id"));
  return id;
}

}  // namespace gpupool::app
