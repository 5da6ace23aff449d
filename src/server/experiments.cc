#include "server/experiments.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

namespace gpupool::server {
namespace {

using nlohmann::json;

Status Bad(std::string_view file, const std::string& member, const std::string& why) {
  return Status::InvalidArgument(std::string(file) + ": " + member + ": " + why);
}

// `j[member]` is of the wanted kind; `kind` "string", "number" or "object".
Status Want(const json& j, std::string_view file, const std::string& path,
            const std::string& member, const char* kind) {
  const std::string at = path.empty() ? member : path + "." + member;
  if (!j.contains(member)) return Bad(file, at, std::string("missing (must be a ") + kind + ")");
  const json& v = j[member];
  const bool ok = std::string_view(kind) == "string"   ? v.is_string()
                  : std::string_view(kind) == "number" ? v.is_number()
                                                       : v.is_object();
  if (!ok) return Bad(file, at, std::string("must be a ") + kind + ", not " + v.type_name());
  return Status::Ok();
}

bool PlainJsonName(const std::string& name) {
  if (name.size() < 6 || name.size() > 200 || name.front() == '.') return false;
  if (!name.ends_with(".json")) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

Result<json> ReadJsonFile(const std::filesystem::path& path, const std::string& name) {
  std::ifstream in(path);
  if (!in) return Error(Status::IoError(name + ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  try {
    return json::parse(text.str());
  } catch (const json::exception& e) {
    return Error(Status::InvalidArgument(name + ": not valid JSON: " + e.what()));
  }
}

}  // namespace

Result<std::string> ExperimentKind(const json& j, std::string_view file) {
  if (!j.is_object()) {
    return Error(Status::InvalidArgument(std::string(file) +
                                         ": must be the JSON object of `sim "
                                         "fill --json` or `sim replay --json`"));
  }
  if (!j.contains("policies")) {
    return Error(Bad(file, "policies", "missing (not an output of `sim fill` or `sim replay`)"));
  }
  if (!j["policies"].is_array()) {
    return Error(
        Bad(file, "policies", std::string("must be an array, not ") + j["policies"].type_name()));
  }
  GP_RETURN_IF_ERROR(Want(j, file, "", "trace", "string"));
  // A replay says how many jobs and GPUs it replayed; a fill says neither.
  const bool replay = j.contains("gpus") || j.contains("jobs");
  if (replay) {
    GP_RETURN_IF_ERROR(Want(j, file, "", "jobs", "number"));
    GP_RETURN_IF_ERROR(Want(j, file, "", "gpus", "number"));
  }
  const json& policies = j["policies"];
  for (std::size_t i = 0; i < policies.size(); ++i) {
    const std::string at = "policies[" + std::to_string(i) + "]";
    const json& p = policies[i];
    if (!p.is_object()) return Error(Bad(file, at, std::string("must be an object")));
    GP_RETURN_IF_ERROR(Want(p, file, at, "policy", "string"));
    if (replay) {
      for (const char* m :
           {"avg_jct_seconds", "avg_queue_seconds", "makespan_seconds", "utilization", "jobs"}) {
        GP_RETURN_IF_ERROR(Want(p, file, at, m, "number"));
      }
    } else {
      for (const char* m : {"unallocated_at_100", "allocation_at_130", "frag_amount_at_100"}) {
        GP_RETURN_IF_ERROR(Want(p, file, at, m, "object"));
        GP_RETURN_IF_ERROR(Want(p[m], file, at + "." + m, "mean", "number"));
      }
      if (p.contains("unallocated_curve")) {
        const json& c = p["unallocated_curve"];
        if (!c.is_array()) {
          return Error(Bad(file, at + ".unallocated_curve", "must be an array"));
        }
        for (std::size_t x = 0; x < c.size(); ++x) {
          if (!c[x].is_number() && !c[x].is_null()) {
            return Error(Bad(file, at + ".unallocated_curve[" + std::to_string(x) + "]",
                             std::string("must be a number or null, not ") + c[x].type_name()));
          }
        }
      }
    }
  }
  return std::string(replay ? "replay" : "fill");
}

json ListExperiments(const std::filesystem::path& dir) {
  json list = json::array();
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && PlainJsonName(it->path().filename().string())) {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const std::string name = f.filename().string();
    json e = {{"name", name}, {"bytes", std::filesystem::file_size(f, ec)}};
    auto j = ReadJsonFile(f, name);
    auto kind = j ? ExperimentKind(*j, name) : Result<std::string>(Error(j.error()));
    if (kind) {
      e["kind"] = *kind;
    } else {
      e["error"] = kind.error().message();
    }
    list.push_back(std::move(e));
  }
  return json{{"dir", dir.string()}, {"experiments", std::move(list)}};
}

ApiResult<json> ReadExperiment(const std::filesystem::path& dir, const std::string& name) {
  if (!PlainJsonName(name)) {
    return Fail(BadRequest("name", "name: '" + name +
                                       "' is not a file name ending in .json (letters, digits, "
                                       "'-', '_', '.'; not starting with '.')"));
  }
  const std::filesystem::path path = dir / name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Fail(NotFoundError("no experiment '" + name + "' in " + dir.string()));
  }
  auto j = ReadJsonFile(path, name);
  auto kind = j ? ExperimentKind(*j, name) : Result<std::string>(Error(j.error()));
  if (!kind) {
    if (kind.error().code() == StatusCode::kIoError) return Fail(FromStatus(kind.error()));
    return Fail(Conflict(kind.error().message()));
  }
  return json{{"name", name}, {"kind", *kind}, {"data", std::move(*j)}};
}

}  // namespace gpupool::server
