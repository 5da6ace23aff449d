#include "server/queue_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "hw/yaml_reader.h"
#include "scheduler/job_order.h"
#include "server/job_spec.h"

namespace gpupool::server {

namespace {

Result<std::vector<queue::QueueSpec>> FromNode(const YAML::Node& root, const std::string& file,
                                               std::string* member) {
  auto at = [&](const YAML::Node& n, const std::string& where, const std::string& what) {
    if (member != nullptr) *member = where;
    return Error(Status::InvalidArgument(file + ":" + std::to_string(hw::LineOf(n)) + ": " + where +
                                         ": " + what));
  };
  if (!root.IsMap() || !root["queues"]) return at(root, "queues", "missing (a list of queues)");
  const YAML::Node list = root["queues"];
  if (!list.IsSequence()) return at(list, "queues", "must be a list of queues");
  std::vector<queue::QueueSpec> out;
  std::vector<YAML::Node> entries;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node e = list[i];
    const std::string where = "queues[" + std::to_string(i) + "]";
    if (!e.IsMap()) return at(e, where, "must be a mapping (name, guaranteed, limit, ...)");
    static const std::set<std::string> kKnown = {"name",   "guaranteed", "limit",
                                                 "weight", "parent",     "models"};
    for (const auto& kv : e) {
      const std::string key = kv.first.as<std::string>("");
      if (!kKnown.contains(key)) {
        return at(kv.first, where + "." + key,
                  "unknown member (known: name, guaranteed, limit, weight, parent, models)");
      }
    }
    queue::QueueSpec q;
    if (!e["name"] || !e["name"].IsScalar()) return at(e, where + ".name", "missing");
    q.name = e["name"].as<std::string>();
    if (!ValidQueueName(q.name)) {
      return at(e["name"], where + ".name",
                "'" + q.name + "' is not a queue name (1-64 of a-z, 0-9, '-', '_', '.')");
    }
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
    if (const YAML::Node models = e["models"]; models) {
      const std::string in = where + ".models";
      if (!models.IsMap()) {
        return at(models, in, "must be a mapping of GPU model to {guaranteed, limit}");
      }
      for (const auto& kv : models) {
        const std::string model = kv.first.as<std::string>("");
        const std::string of = in + "." + model;
        const YAML::Node share = kv.second;
        if (!share.IsMap()) return at(kv.first, of, "must be a mapping (guaranteed, limit)");
        queue::ModelShare m;
        for (const auto& kv2 : share) {
          const std::string key = kv2.first.as<std::string>("");
          double* field = key == "guaranteed" ? &m.guaranteed_gpus
                          : key == "limit"    ? &m.limit_gpus
                                              : nullptr;
          if (field == nullptr) {
            return at(kv2.first, of + "." + key, "unknown member (known: guaranteed, limit)");
          }
          try {
            *field = kv2.second.as<double>();
          } catch (const YAML::Exception&) {
            return at(kv2.second, of + "." + key,
                      "'" + kv2.second.as<std::string>("") + "' is not a number");
          }
        }
        q.models[model] = m;
      }
      // Without its own `guaranteed` a queue is guaranteed what its models are.
      if (!e["guaranteed"]) {
        q.guaranteed_gpus = 0;
        for (const auto& [model, m] : q.models) q.guaranteed_gpus += m.guaranteed_gpus;
      }
    }
    out.push_back(std::move(q));
    entries.push_back(e);
  }
  // The set's own rules. Its message, "queue 'NAME': MEMBER: what", names the queue, which gives
  // the index and the line: a repeated name is the second of the two, any other rule the first
  // queue of that name (names are checked before the rest).
  if (auto set = queue::QueueSet::Create(out); !set) {
    const std::string& m = set.error().message();
    std::size_t index = out.size();
    std::string rest;  // "MEMBER: what"
    for (std::size_t i = 0; i < out.size() && index == out.size(); ++i) {
      const std::string prefix = "queue '" + out[i].name + "': ";
      if (!m.starts_with(prefix)) continue;
      rest = m.substr(prefix.size());
      index = i;
      if (rest == "name: listed twice") {
        for (std::size_t j = i + 1; j < out.size(); ++j) {
          if (out[j].name == out[i].name) {
            index = j;
            break;
          }
        }
      }
    }
    if (index == out.size()) return at(list, "queues", m);  // not expected: every rule names one
    const std::size_t colon = rest.find(": ");
    const std::string key = rest.substr(0, colon);
    const YAML::Node& e = entries[index];
    // The node whose line the error gives (yaml-cpp's Node::operator= writes into the document:
    // nodes are chosen by reset()).
    YAML::Node line;
    line.reset(e[key] ? e[key] : e);
    if (key.starts_with("models.")) {  // "models.H100.limit" (a model name may hold dots)
      std::string model = key.substr(7);
      std::string share_key;  // "guaranteed", "limit" or "" (the model itself)
      for (const char* suffix : {".guaranteed", ".limit"}) {
        if (model.ends_with(suffix)) {
          share_key = suffix + 1;
          model.resize(model.size() - share_key.size() - 1);
        }
      }
      line.reset(e["models"]);
      for (const auto& kv : e["models"]) {
        if (kv.first.as<std::string>("") != model) continue;
        line.reset(kv.first);
        if (!share_key.empty() && kv.second.IsMap() && kv.second[share_key]) {
          line.reset(kv.second[share_key]);
        }
      }
    }
    return at(line, "queues[" + std::to_string(index) + "]." + key,
              colon == std::string::npos ? rest : rest.substr(colon + 2));
  }
  return out;
}

Result<QueueConfig> ConfigFromNode(const YAML::Node& root, const std::string& file,
                                   std::string* member) {
  auto at = [&](const YAML::Node& n, const std::string& where, const std::string& what) {
    if (member != nullptr) *member = where;
    return Error(Status::InvalidArgument(file + ":" + std::to_string(hw::LineOf(n)) + ": " + where +
                                         ": " + what));
  };
  QueueConfig out;
  if (root.IsMap()) {
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>("");
      if (key != "queues" && key != "order") {
        return at(kv.first, key, "unknown member (known: order, queues)");
      }
    }
    if (const YAML::Node order = root["order"]; order) {
      if (!order.IsScalar()) return at(order, "order", "must be the name of an order");
      out.order = order.as<std::string>();
      if (auto made = scheduler::MakeJobOrder(out.order); !made) {
        return at(order, "order", made.error().message());
      }
    }
  }
  auto queues = FromNode(root, file, member);
  if (!queues) return Error(queues.error());
  out.queues = std::move(*queues);
  return out;
}

// A model name as a YAML key: as it is when it is plain (letters, digits, '-', '_', '.'), else
// double-quoted.
std::string YamlKey(const std::string& name) {
  const bool plain = !name.empty() && name[0] != '-' && name[0] != '.' &&
                     std::all_of(name.begin(), name.end(), [](unsigned char c) {
                       return std::isalnum(c) || c == '-' || c == '_' || c == '.';
                     });
  if (plain) return name;
  std::string out = "\"";
  for (const char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The shortest text that reads back as `v`.
std::string Number(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace

Result<QueueConfig> LoadQueueConfig(const std::string& path) {
  auto root = hw::LoadYamlFile(path);
  if (!root) return Error(root.error());
  return ConfigFromNode(*root, path, nullptr);
}

Result<QueueConfig> ParseQueueConfig(const std::string& text, const std::string& file,
                                     std::string* member) {
  if (member != nullptr) member->clear();
  auto root = hw::LoadYamlText(text, file);
  if (!root) return Error(root.error());
  return ConfigFromNode(*root, file, member);
}

Result<std::vector<queue::QueueSpec>> ParseQueueFile(const std::string& text,
                                                     const std::string& file, std::string* member) {
  auto config = ParseQueueConfig(text, file, member);
  if (!config) return Error(config.error());
  return std::move(config->queues);
}

std::string QueueConfigText(const QueueConfig& config) {
  return (config.order.empty() ? "" : "order: " + config.order + "\n") +
         QueueFileText(config.queues);
}

std::vector<std::string> QueueChanges(const std::vector<queue::QueueSpec>& before,
                                      const std::vector<queue::QueueSpec>& after) {
  const auto find = [](const std::vector<queue::QueueSpec>& in, const std::string& name) {
    const auto it = std::find_if(in.begin(), in.end(),
                                 [&](const queue::QueueSpec& q) { return q.name == name; });
    return it == in.end() ? nullptr : &*it;
  };
  const auto limit = [](double v) { return std::isinf(v) ? std::string("none") : Number(v); };
  const auto parent = [](const std::string& p) { return p.empty() ? std::string("none") : p; };
  std::vector<std::string> out;
  for (const queue::QueueSpec& b : before) {
    const queue::QueueSpec* a = find(after, b.name);
    if (a == nullptr) {
      out.push_back("removed '" + b.name + "'");
      continue;
    }
    std::string d;
    const auto add = [&](const std::string& member, const std::string& from,
                         const std::string& to) {
      if (from != to) d += (d.empty() ? "" : ", ") + member + " " + from + " -> " + to;
    };
    add("guaranteed", Number(b.guaranteed_gpus), Number(a->guaranteed_gpus));
    add("limit", limit(b.limit_gpus), limit(a->limit_gpus));
    add("weight", Number(b.weight), Number(a->weight));
    add("parent", parent(b.parent), parent(a->parent));
    for (const auto& [model, m] : b.models) {
      const auto it = a->models.find(model);
      if (it == a->models.end()) {
        d += (d.empty() ? "" : ", ") + ("models." + model + " removed");
        continue;
      }
      add("models." + model + ".guaranteed", Number(m.guaranteed_gpus),
          Number(it->second.guaranteed_gpus));
      add("models." + model + ".limit", limit(m.limit_gpus), limit(it->second.limit_gpus));
    }
    for (const auto& [model, m] : a->models) {
      if (b.models.contains(model)) continue;
      d += (d.empty() ? "" : ", ") +
           ("models." + model + " added (guaranteed " + Number(m.guaranteed_gpus) + ", limit " +
            limit(m.limit_gpus) + ")");
    }
    if (!d.empty()) out.push_back("'" + b.name + "': " + d);
  }
  for (const queue::QueueSpec& a : after) {
    if (find(before, a.name) != nullptr) continue;
    std::string d = "guaranteed " + Number(a.guaranteed_gpus) + ", limit " + limit(a.limit_gpus) +
                    ", weight " + Number(a.weight);
    if (!a.parent.empty()) d += ", parent " + a.parent;
    for (const auto& [model, m] : a.models) {
      d += ", " + model + " guaranteed " + Number(m.guaranteed_gpus) + " limit " +
           limit(m.limit_gpus);
    }
    out.push_back("added '" + a.name + "' (" + d + ")");
  }
  return out;
}

std::string QueueFileText(const std::vector<queue::QueueSpec>& queues) {
  if (queues.empty()) return "queues: []\n";
  std::string out = "queues:\n";
  for (const queue::QueueSpec& q : queues) {
    out += "  - name: " + q.name + "\n";
    if (q.guaranteed_gpus != 0) out += "    guaranteed: " + Number(q.guaranteed_gpus) + "\n";
    if (!std::isinf(q.limit_gpus)) out += "    limit: " + Number(q.limit_gpus) + "\n";
    if (q.weight != 1) out += "    weight: " + Number(q.weight) + "\n";
    if (!q.parent.empty()) out += "    parent: " + q.parent + "\n";
    if (!q.models.empty()) out += "    models:\n";
    for (const auto& [model, m] : q.models) {
      std::string share;
      if (m.guaranteed_gpus != 0) share = "guaranteed: " + Number(m.guaranteed_gpus);
      if (!std::isinf(m.limit_gpus)) {
        share += (share.empty() ? "" : ", ") + ("limit: " + Number(m.limit_gpus));
      }
      out += "      " + YamlKey(model) + ": {" + share + "}\n";
    }
  }
  return out;
}

}  // namespace gpupool::server
