#include "store/job_sort.h"

#include <array>

namespace gpupool::store {
namespace {

struct KeyInfo {
  JobSortKey key;
  std::string_view name;
  std::string_view column;
  bool text;
};

constexpr std::array<KeyInfo, 8> kKeys = {{
    {JobSortKey::kId, "id", "id", false},
    {JobSortKey::kName, "name", "name", true},
    {JobSortKey::kUser, "user", "user", true},
    {JobSortKey::kQueue, "queue", "queue", true},
    {JobSortKey::kState, "state", "state", true},
    {JobSortKey::kPriority, "priority", "priority", false},
    {JobSortKey::kStarted, "started", "started_ms", false},
    {JobSortKey::kFinished, "finished", "finished_ms", false},
}};

const KeyInfo& Info(JobSortKey key) {
  for (const KeyInfo& k : kKeys) {
    if (k.key == key) return k;
  }
  return kKeys[0];
}

}  // namespace

std::string_view JobSortKeyName(JobSortKey key) { return Info(key).name; }

std::optional<JobSortKey> ParseJobSortKey(std::string_view name) {
  for (const KeyInfo& k : kKeys) {
    if (k.name == name) return k.key;
  }
  return std::nullopt;
}

std::string JobSortKeyNames() {
  std::string out;
  for (const KeyInfo& k : kKeys) {
    if (!out.empty()) out += ", ";
    out += k.name;
  }
  return out;
}

bool JobSortKeyIsText(JobSortKey key) { return Info(key).text; }

std::string_view JobSortColumn(JobSortKey key) { return Info(key).column; }

JobCursor CursorAfter(const JobRow& row, JobSortKey key) {
  JobCursor c;
  c.id = row.id;
  switch (key) {
    case JobSortKey::kId:
      break;
    case JobSortKey::kName:
      c.text = row.name;
      break;
    case JobSortKey::kUser:
      c.text = row.user;
      break;
    case JobSortKey::kQueue:
      c.text = row.queue;
      break;
    case JobSortKey::kState:
      c.text = row.state;
      break;
    case JobSortKey::kPriority:
      c.number = row.priority;
      break;
    case JobSortKey::kStarted:
      c.number = row.started_ms;
      break;
    case JobSortKey::kFinished:
      c.number = row.finished_ms;
      break;
  }
  return c;
}

}  // namespace gpupool::store
