#include "server/queue_file.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "hw/yaml_reader.h"

namespace gpupool::server {

namespace {

Result<std::vector<queue::QueueSpec>> FromNode(const YAML::Node& root, const std::string& file) {
  auto at = [&](const YAML::Node& n, const std::string& where, const std::string& what) {
    return Error(Status::InvalidArgument(file + ":" + std::to_string(hw::LineOf(n)) + ": " + where +
                                         ": " + what));
  };
  if (!root.IsMap() || !root["queues"]) return at(root, "queues", "missing (a list of queues)");
  const YAML::Node list = root["queues"];
  if (!list.IsSequence()) return at(list, "queues", "must be a list of queues");
  std::vector<queue::QueueSpec> out;
  std::vector<int> lines;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node e = list[i];
    const std::string where = "queues[" + std::to_string(i) + "]";
    if (!e.IsMap()) return at(e, where, "must be a mapping (name, guaranteed, limit, ...)");
    static const std::set<std::string> kKnown = {"name", "guaranteed", "limit", "weight", "parent"};
    for (const auto& kv : e) {
      const std::string key = kv.first.as<std::string>("");
      if (!kKnown.contains(key)) {
        return at(kv.first, where + "." + key,
                  "unknown member (known: name, guaranteed, limit, weight, parent)");
      }
    }
    queue::QueueSpec q;
    if (!e["name"] || !e["name"].IsScalar()) return at(e, where + ".name", "missing");
    q.name = e["name"].as<std::string>();
    if (e["parent"]) {
      if (!e["parent"].IsScalar()) return at(e["parent"], where + ".parent", "must be a name");
      q.parent = e["parent"].as<std::string>();
    }
    for (const auto& [key, field] :
         {std::pair<const char*, double*>{"guaranteed", &q.guaranteed_gpus},
          std::pair<const char*, double*>{"limit", &q.limit_gpus},
          std::pair<const char*, double*>{"weight", &q.weight}}) {
      const YAML::Node v = e[key];
      if (!v) continue;
      try {
        *field = v.as<double>();
      } catch (const YAML::Exception&) {
        return at(v, where + "." + key, "'" + v.as<std::string>("") + "' is not a number");
      }
    }
    out.push_back(std::move(q));
    lines.push_back(hw::LineOf(e));
  }
  // The set's own rules; its message names the queue, which gives the line.
  if (auto set = queue::QueueSet::Create(out); !set) {
    const std::string& m = set.error().message();
    int line = hw::LineOf(list);
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (m.starts_with("queue '" + out[i].name + "'") ||
          m.starts_with("queue " + std::to_string(i + 1) + ":")) {
        line = lines[i];
        break;
      }
    }
    return Error(Status::InvalidArgument(file + ":" + std::to_string(line) + ": " + m));
  }
  return out;
}

}  // namespace

Result<std::vector<queue::QueueSpec>> LoadQueueFile(const std::string& path) {
  auto root = hw::LoadYamlFile(path);
  if (!root) return Error(root.error());
  return FromNode(*root, path);
}

Result<std::vector<queue::QueueSpec>> ParseQueueFile(const std::string& text,
                                                     const std::string& file) {
  auto root = hw::LoadYamlText(text, file);
  if (!root) return Error(root.error());
  return FromNode(*root, file);
}

}  // namespace gpupool::server
