#include "executor/process_ref.h"

#include <climits>
#include <string>

namespace gpupool::executor {
namespace {

Result<std::int64_t> IntegerMember(const nlohmann::json& json, const char* name, std::int64_t min,
                                   std::int64_t max) {
  const auto it = json.find(name);
  if (it == json.end()) {
    return Error(Status::InvalidArgument(std::string("process ref: ") + name + ": missing"));
  }
  if (!it->is_number_integer()) {
    return Error(Status::InvalidArgument(std::string("process ref: ") + name +
                                         ": not an integer: " + it->dump()));
  }
  // A number_unsigned above INT64_MAX reads back negative through get<int64_t>: check it first.
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    return Error(Status::InvalidArgument(std::string("process ref: ") + name + ": " + it->dump() +
                                         " is out of range"));
  }
  const std::int64_t value = it->get<std::int64_t>();
  if (value < min || value > max) {
    return Error(Status::InvalidArgument(std::string("process ref: ") + name + ": " +
                                         std::to_string(value) + " is out of range"));
  }
  return value;
}

}  // namespace

nlohmann::json ToJson(const ProcessRef& ref) {
  return nlohmann::json{{"shepherd_pid", ref.shepherd_pid},
                        {"shepherd_start_ticks", ref.shepherd_start_ticks},
                        {"pgid", ref.pgid}};
}

Result<ProcessRef> ProcessRefFromJson(const nlohmann::json& json) {
  if (!json.is_object()) {
    return Error(Status::InvalidArgument("process ref: not a JSON object: " + json.dump()));
  }
  const auto pid = IntegerMember(json, "shepherd_pid", 1, INT_MAX);
  if (!pid) return Error(pid.error());
  const auto ticks = IntegerMember(json, "shepherd_start_ticks", 0, INT64_MAX);
  if (!ticks) return Error(ticks.error());
  const auto pgid = IntegerMember(json, "pgid", 1, INT_MAX);
  if (!pgid) return Error(pgid.error());
  ProcessRef ref;
  ref.shepherd_pid = static_cast<int>(*pid);
  ref.shepherd_start_ticks = *ticks;
  ref.pgid = static_cast<int>(*pgid);
  return ref;
}

}  // namespace gpupool::executor
