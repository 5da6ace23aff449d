#include "client_format.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>
#include <sstream>
#include <vector>

namespace gpupool::app {
namespace {

using json = nlohmann::json;

const json& Member(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// A scalar as text: strings unquoted, null/absent as "-", others as JSON.
std::string Text(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

std::string Str(const json& j, const char* key) { return Text(Member(j, key)); }

std::int64_t Int(const json& j, const char* key) {
  const json& v = Member(j, key);
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number()) return static_cast<std::int64_t>(std::llround(v.get<double>()));
  return 0;
}

// Thousandths as a trimmed decimal: 2000 -> "2", 500 -> "0.5", 1250 -> "1.25".
std::string Fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Milli(std::int64_t milli) {
  std::string out = std::to_string(milli / 1000);
  std::int64_t frac = milli % 1000;
  if (frac != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%03d", static_cast<int>(frac));
    std::string f = buf;
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out;
}

// MiB as GiB with at most one decimal: 65536 -> "64", 1536 -> "1.5".
std::string Gib(std::int64_t mib) {
  const std::int64_t tenths = (mib * 10 + 512) / 1024;
  std::string out = std::to_string(tenths / 10);
  if (tenths % 10 != 0) out += "." + std::to_string(tenths % 10);
  return out;
}

// Display form of a command: arguments with spaces or shell characters in single quotes.
std::string CommandLine(const json& command) {
  if (!command.is_array()) return Text(command);
  std::string out;
  for (const auto& arg : command) {
    std::string a = Text(arg);
    const bool plain =
        !a.empty() && a.find_first_of(" \t\n'\"\\$`*?;&|<>()[]{}#~") == std::string::npos;
    if (!out.empty()) out += ' ';
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

// One level of structure on one line: {"a": 1, "b": [x, y]} -> "a=1 b=x,y".
std::string Flat(const json& v) {
  if (v.is_object()) {
    std::string out;
    for (const auto& [k, x] : v.items()) {
      if (!out.empty()) out += ' ';
      out += k + "=" + (x.is_array() || x.is_object() ? Flat(x) : Text(x));
    }
    return out.empty() ? "-" : out;
  }
  if (v.is_array()) {
    std::string out;
    for (const auto& x : v) {
      if (!out.empty()) out += x.is_object() ? "; " : ",";
      out += x.is_object() || x.is_array() ? Flat(x) : Text(x);
    }
    return out.empty() ? "-" : out;
  }
  return Text(v);
}

// Columns left-aligned, two spaces apart, the last one not padded, no trailing spaces.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();  // an empty last column
    out += line + "\n";
  }
  return out;
}

std::string Age(const json& job, const char* key, std::int64_t now_s) {
  const json& t = Member(job, key);
  if (!t.is_string()) return "-";
  auto at = ParseTimestamp(t.get<std::string>());
  if (!at) return "-";
  return FormatAge(std::max<std::int64_t>(0, now_s - *at));
}

std::string NodeColumn(const json& job) {
  const json& placement = Member(job, "placement");
  if (!placement.is_array() || placement.empty()) return "-";
  std::vector<std::string> nodes;
  std::set<std::string> seen;
  for (const auto& p : placement) {
    std::string n = Str(p, "node");
    if (seen.insert(n).second) nodes.push_back(n);
  }
  return nodes.size() == 1 ? nodes[0] : nodes[0] + "+" + std::to_string(nodes.size() - 1);
}

}  // namespace

std::optional<std::int64_t> ParseTimestamp(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, used = 0;
  const std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) != 6) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(static_cast<std::size_t>(used));
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
  }
  if (rest != "Z" && rest != "" && rest != "+00:00") return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string FormatAge(std::int64_t seconds) {
  if (seconds < 60) return std::to_string(seconds) + "s";
  if (seconds < 3600) return std::to_string(seconds / 60) + "m";
  if (seconds < 86400) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

std::string FormatDuration(std::int64_t seconds) {
  if (seconds <= 0) return std::to_string(seconds) + "s";
  std::string out;
  const std::int64_t d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60,
                     s = seconds % 60;
  if (d > 0) out += std::to_string(d) + "d";
  if (h > 0) out += std::to_string(h) + "h";
  if (m > 0) out += std::to_string(m) + "m";
  if (s > 0) out += std::to_string(s) + "s";
  return out;
}

std::string FormatJobGpus(const json& job) {
  const json& r = Member(job, "resources");
  const json& gpus = Member(r, "gpus");
  std::string out;
  if (gpus.is_number()) {
    out = Milli(static_cast<std::int64_t>(std::llround(gpus.get<double>() * 1000.0)));
  } else if (Member(r, "num_gpu").is_number()) {
    const std::int64_t num = Int(r, "num_gpu");
    out = num == 1 ? Milli(Int(r, "gpu_milli")) : std::to_string(num);
  } else {
    return "-";
  }
  const std::int64_t replicas = Int(r, "replicas");
  if (replicas > 1) out += "x" + std::to_string(replicas);
  return out;
}

std::string FormatJobsTable(const json& jobs, std::int64_t now_s, int width) {
  std::vector<std::vector<std::string>> rows{
      {"ID", "NAME", "USER", "QUEUE", "STATE", "GPUS", "NODE", "AGE", "REASON"}};
  if (jobs.is_array()) {
    for (const auto& j : jobs) {
      const json& reason = Member(j, "reason");
      rows.push_back({Str(j, "id"), Str(j, "name"), Str(j, "user"), Str(j, "queue"),
                      Str(j, "state"), FormatJobGpus(j), NodeColumn(j),
                      Age(j, "submitted_at", now_s),
                      reason.is_string() ? reason.get<std::string>() : std::string()});
    }
  }
  if (width > 0) {
    std::size_t before = 0;  // characters before REASON, separators included
    for (std::size_t c = 0; c + 1 < rows[0].size(); ++c) {
      std::size_t w = 0;
      for (const auto& row : rows) w = std::max(w, row[c].size());
      before += w + 2;
    }
    const std::size_t room = std::max<std::size_t>(
        10,
        static_cast<std::size_t>(width) > before ? static_cast<std::size_t>(width) - before : 0);
    for (auto& row : rows) {
      std::string& reason = row.back();
      for (char& ch : reason) {
        if (ch == '\n' || ch == '\t') ch = ' ';
      }
      if (reason.size() > room) reason = reason.substr(0, room - 3) + "...";
    }
  }
  return Table(rows);
}

std::string FormatJobDetail(const json& job, const json& events, std::int64_t now_s) {
  std::ostringstream out;
  auto line = [&](std::string_view key, const std::string& value) {
    std::string k(key);
    k += ":";
    k.resize(std::max<std::size_t>(14, k.size() + 1), ' ');
    out << k << value << "\n";
  };
  auto when = [&](const char* key) {
    const json& t = Member(job, key);
    if (!t.is_string()) return Text(t);
    auto at = ParseTimestamp(t.get<std::string>());
    std::string s = t.get<std::string>();
    if (at) s += " (" + FormatAge(std::max<std::int64_t>(0, now_s - *at)) + " ago)";
    return s;
  };
  std::set<std::string> shown;
  auto show = [&](const char* key, const std::string& value) {
    shown.insert(key);
    line(key, value);
  };
  show("id", Str(job, "id"));
  show("name", Str(job, "name"));
  show("user", Str(job, "user"));
  show("queue", Str(job, "queue"));
  show("priority", Str(job, "priority"));
  show("state", Str(job, "state"));
  const json& reason = Member(job, "reason");
  shown.insert("reason");
  if (Str(job, "state") == "pending" ||
      (reason.is_string() && !reason.get<std::string>().empty())) {
    line("reason", Text(reason));
  }
  // The reasons as data (a pending job): where it stands, then each reason on its own line.
  const json& pending = Member(job, "pending");
  shown.insert("pending");
  if (pending.is_object()) {
    const json& position = Member(pending, "position");
    std::string where = "not ranked yet";
    if (position.is_object()) {
      const std::string queue = Str(position, "queue");
      where = "position " + Str(position, "in_queue") + " of " + Str(position, "of") +
              (queue.empty() || queue == "-" ? " in the pool" : " in queue " + queue);
    }
    line("pending", where);
    const json& reasons = Member(pending, "reasons");
    if (reasons.is_array()) {
      for (const auto& r : reasons) {
        out << "  " << Str(r, "code") << ": " << Str(r, "message") << "\n";
      }
    }
  }
  show("command", CommandLine(Member(job, "command")));
  {
    const json& env = Member(job, "env");
    std::string e;
    if (env.is_object()) {
      for (const auto& [k, v] : env.items()) e += (e.empty() ? "" : " ") + k + "=" + Text(v);
    }
    show("env", e.empty() ? "-" : e);
  }
  show("workdir", Str(job, "workdir"));
  show("gpus", FormatJobGpus(job));
  {
    const json& r = Member(job, "resources");
    std::string res;
    if (r.is_object()) {
      for (const auto& [k, v] : r.items()) {
        std::string value = v.is_array() ? (v.empty() ? "any" : Flat(v)) : Text(v);
        if (!res.empty()) res += ' ';
        res += k;
        res += '=';
        res += value;
      }
    }
    show("resources", res.empty() ? "-" : res);
  }
  {
    const json& limit = Member(job, "time_limit_s");
    std::string t = Text(limit);
    if (limit.is_number_integer() && limit.get<std::int64_t>() > 0) {
      t = FormatDuration(limit.get<std::int64_t>()) + " (" + t + " s)";
    }
    show("time_limit_s", t);
  }
  show("preemptible", Str(job, "preemptible"));
  show("requeue", Str(job, "requeue"));
  show("submitted_at", when("submitted_at"));
  show("started_at", when("started_at"));
  show("finished_at", when("finished_at"));
  show("exit_code", Str(job, "exit_code"));
  shown.insert("placement");
  // Members this client does not know yet (a newer server) still show.
  if (job.is_object()) {
    for (const auto& [k, v] : job.items()) {
      if (shown.count(k) == 0) line(k, v.is_structured() ? Flat(v) : Text(v));
    }
  }
  const json& placement = Member(job, "placement");
  if (placement.is_array() && !placement.empty()) {
    out << "placement:\n";
    for (const auto& p : placement) {
      out << "  replica " << Str(p, "replica") << " on " << Str(p, "node") << ": cpu "
          << Milli(Int(p, "cpu_milli")) << ", memory " << Str(p, "memory_mib") << " MiB\n";
      const json& gpus = Member(p, "gpus");
      if (!gpus.is_array()) continue;
      for (const auto& g : gpus) {
        out << "    GPU " << Str(g, "index") << "  " << Str(g, "uuid") << "  "
            << Milli(Int(g, "milli")) << " GPU";
        if (Int(g, "memory_mib") > 0) out << ", " << Str(g, "memory_mib") << " MiB";
        out << "\n";
      }
    }
  } else {
    out << "placement:    -\n";
  }
  out << "events:\n";
  if (!events.is_array() || events.empty()) {
    out << "  -\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : events) {
      const json& r = Member(e, "reason");
      rows.push_back({"  " + Str(e, "time"), Str(e, "state"),
                      r.is_string() ? r.get<std::string>() : std::string()});
    }
    out << Table(rows);
  }
  return out.str();
}

std::string FormatNodesTable(const json& nodes) {
  std::vector<std::vector<std::string>> rows{
      {"NAME", "CONDITION", "MODEL", "GPUS", "MILLI", "CPU", "MEM", "JOBS"}};
  bool any_simulated = false;
  if (nodes.is_array()) {
    for (const auto& n : nodes) {
      const bool simulated = Member(n, "simulated").is_boolean() && n["simulated"].get<bool>();
      any_simulated |= simulated;
      const json& gpus = Member(n, "gpus");
      std::int64_t total = 0, used = 0, milli_used = 0;
      if (gpus.is_array()) {
        for (const auto& g : gpus) {
          ++total;
          const std::int64_t m = Int(g, "milli_used");
          milli_used += m;
          if (m > 0) ++used;
        }
      }
      const json& jobs = Member(n, "jobs");
      rows.push_back({Str(n, "name") + (simulated ? "*" : ""), Str(n, "condition"),
                      Str(n, "gpu_model"), std::to_string(used) + "/" + std::to_string(total),
                      std::to_string(milli_used) + "/" + std::to_string(total * 1000),
                      Milli(Int(n, "cpu_used_milli")) + "/" + Milli(Int(n, "cpu_milli")),
                      Gib(Int(n, "memory_used_mib")) + "/" + Gib(Int(n, "memory_mib")) + "G",
                      std::to_string(jobs.is_array() ? jobs.size() : 0)});
    }
  }
  std::string out = Table(rows);
  if (any_simulated) out += "* simulated node (no processes run there)\n";
  return out;
}

std::string FormatTopFrame(const json& pool, const json& nodes, std::string_view title) {
  std::ostringstream out;
  out << title << "\n\n";
  std::int64_t gpus = 0, milli_used = 0, free_whole = 0, shared = 0, cpu = 0, cpu_used = 0, mem = 0,
               mem_used = 0, node_count = 0;
  bool any_simulated = false;
  std::vector<std::vector<std::string>> rows;
  if (nodes.is_array()) {
    for (const auto& n : nodes) {
      ++node_count;
      std::string bar;
      std::int64_t node_milli = 0, node_gpus = 0;
      const json& list = Member(n, "gpus");
      if (list.is_array()) {
        for (const auto& g : list) {
          const std::int64_t m = Int(g, "milli_used");
          const bool healthy = !Member(g, "healthy").is_boolean() || g["healthy"].get<bool>();
          ++node_gpus;
          node_milli += m;
          if (!healthy) {
            bar += 'x';
          } else if (m >= 1000) {
            bar += '#';
          } else if (m > 0) {
            bar += '+';
            ++shared;
          } else {
            bar += '.';
            ++free_whole;
          }
        }
      }
      gpus += node_gpus;
      milli_used += node_milli;
      cpu += Int(n, "cpu_milli");
      cpu_used += Int(n, "cpu_used_milli");
      mem += Int(n, "memory_mib");
      mem_used += Int(n, "memory_used_mib");
      const bool simulated = Member(n, "simulated").is_boolean() && n["simulated"].get<bool>();
      any_simulated |= simulated;
      const json& jobs = Member(n, "jobs");
      rows.push_back(
          {Str(n, "name") + (simulated ? "*" : ""), Str(n, "condition"), "[" + bar + "]",
           Milli(node_milli) + "/" + std::to_string(node_gpus) + " GPU",
           "cpu " + Milli(Int(n, "cpu_used_milli")) + "/" + Milli(Int(n, "cpu_milli")),
           "mem " + Gib(Int(n, "memory_used_mib")) + "/" + Gib(Int(n, "memory_mib")) + "G",
           "jobs " + std::to_string(jobs.is_array() ? jobs.size() : 0)});
    }
  }
  const std::int64_t pct = gpus > 0 ? milli_used * 100 / (gpus * 1000) : 0;
  out << "GPUs   " << Milli(milli_used) << "/" << gpus << " allocated (" << pct << " %), "
      << free_whole << " idle, " << shared << " shared, " << node_count << " node(s)\n";
  out << "CPU    " << Milli(cpu_used) << "/" << Milli(cpu) << " cores   MEM " << Gib(mem_used)
      << "/" << Gib(mem) << " GiB\n";
  // The pool's own figures (GET /api/v1/pool, docs/api.md): fragmentation, jobs, models.
  if (pool.is_object()) {
    const json& milli = Member(pool, "milli");
    if (Member(pool, "fragmented_milli").is_number() && milli.is_object()) {
      const double frag = pool["fragmented_milli"].get<double>();
      const double frag_pct = Member(pool, "fragmentation_pct").is_number()
                                  ? pool["fragmentation_pct"].get<double>()
                                  : 0.0;
      out << "FRAG   " << Milli(std::llround(frag)) << " of " << Milli(Int(milli, "free"))
          << " free GPUs unusable by the learned workload (" << Fixed(frag_pct, 1) << " %)\n";
    }
    const json& jobs = Member(pool, "jobs");
    if (jobs.is_object()) {
      out << "JOBS   " << Int(jobs, "running") << " running, " << Int(jobs, "pending")
          << " pending\n";
    }
    const json& models = Member(pool, "by_model");
    if (models.is_array() && !models.empty()) {
      std::vector<std::vector<std::string>> model_rows{{"MODEL", "GPUS", "FREE", "ALLOCATED"}};
      for (const auto& m : models) {
        model_rows.push_back({Str(m, "model"), Str(m, "gpus"), Str(m, "free_gpus"),
                              Milli(Int(m, "allocated_milli"))});
      }
      out << "\n" << Table(model_rows);
    }
  }
  out << "\n" << Table(rows);
  out << "# full  + shared  . free  x unhealthy" << (any_simulated ? "   * simulated node" : "")
      << "\n";
  return out.str();
}

std::string FormatTokensTable(const json& tokens) {
  std::vector<std::vector<std::string>> rows{
      {"ID", "USER", "QUEUES", "ADMIN", "CREATED", "REVOKED"}};
  if (tokens.is_array()) {
    for (const auto& t : tokens) {
      const json& queues = Member(t, "queues");
      rows.push_back({Str(t, "id"), Str(t, "user"),
                      queues.is_array() ? (queues.empty() ? "-" : Flat(queues)) : Text(queues),
                      Str(t, "admin"), Str(t, "created_at"), Str(t, "revoked")});
    }
  }
  return Table(rows);
}

std::string FormatQueues(const json& answer) {
  const json& queues = Member(answer, "queues");
  std::string out;
  if (!queues.is_array() || queues.empty()) {
    out = "no queues: jobs of any queue are accepted, no limits or guarantees\n";
  } else {
    // GPUs and weights to the thousandth: 16 -> "16", 0.5 -> "0.5".
    const auto num = [](const json& q, const char* key) {
      const json& v = Member(q, key);
      return v.is_number() ? Milli(std::llround(v.get<double>() * 1000.0)) : Text(v);
    };
    std::vector<std::vector<std::string>> rows{{"NAME", "PARENT", "GUARANTEED", "LIMIT", "WEIGHT",
                                                "USED", "BORROWED", "PENDING", "RUNNING"}};
    for (const auto& q : queues) {
      rows.push_back({Str(q, "name"), Str(q, "parent"), num(q, "guaranteed"), num(q, "limit"),
                      num(q, "weight"), num(q, "used"), num(q, "borrowed"), Str(q, "pending"),
                      Str(q, "running")});
    }
    out = Table(rows);
    // Per GPU model shares, when the queues have them: one row per queue and model.
    std::vector<std::vector<std::string>> by_model{
        {"QUEUE", "MODEL", "GUARANTEED", "LIMIT", "USED", "BORROWED"}};
    for (const auto& q : queues) {
      const json& models = Member(q, "models");
      if (!models.is_object()) continue;
      for (const auto& [model, m] : models.items()) {
        by_model.push_back({Str(q, "name"), model, num(m, "guaranteed"), num(m, "limit"),
                            num(m, "used"), num(m, "borrowed")});
      }
    }
    if (by_model.size() > 1) out += Table(by_model);
  }
  if (Member(answer, "order").is_string()) {
    out += "order " + Str(answer, "order") + " (" + Str(answer, "order_source") + ")\n";
  }
  if (Member(answer, "applied_at").is_string()) {
    out += "applied " + Str(answer, "applied_at");
    if (Member(answer, "applied_by").is_string()) out += " by " + Str(answer, "applied_by");
    out += " (" + Str(answer, "source") + ")\n";
  }
  return out;
}

std::string FormatQueuesChange(const json& answer) {
  std::string out;
  const json& changes = Member(answer, "changes");
  if (changes.is_array() && !changes.empty()) {
    for (const auto& c : changes) out += "changed: " + Text(c) + "\n";
  } else {
    out += "no change\n";
  }
  const json& warnings = Member(answer, "warnings");
  if (warnings.is_array()) {
    for (const auto& w : warnings) out += "warning: " + Text(w) + "\n";
  }
  return out + FormatQueues(answer);
}

std::string FormatWhoami(const json& who) {
  const bool admin = Member(who, "admin").is_boolean() && who["admin"].get<bool>();
  const json& queues = Member(who, "queues");
  return Str(who, "user") + (admin ? " (admin)" : "") +
         "\nqueues: " + (queues.is_array() ? (queues.empty() ? "-" : Flat(queues)) : Text(queues)) +
         "\n";
}

}  // namespace gpupool::app
