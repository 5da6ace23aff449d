#include "executor/launch_plan.h"

#include <cerrno>
#include <system_error>

#include "common/run_command.h"
#include "executor/exit_record.h"
#include "executor/gpu_shim.h"

extern char** environ;

namespace gpupool::executor {
namespace {

// The default search path of glibc's execvp when PATH is unset.
constexpr std::string_view kDefaultPath = "/bin:/usr/bin";

std::string CannotRun(const std::string& name, int err) {
  return "cannot run '" + name + "': " + std::generic_category().message(err);
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::string_view NameOf(std::string_view entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

Result<std::string> ResolveProgram(const std::string& name, std::string_view path) {
  if (name.empty()) return Error(Status::InvalidArgument(CannotRun(name, ENOENT)));
  if (name.find('/') != std::string::npos) return name;  // execve reports what is wrong with it
  int why = ENOENT;
  std::string program = FindOnPath(name, path, &why);
  if (program.empty()) return Error(Status::InvalidArgument(CannotRun(name, why)));
  return program;
}

std::vector<std::string> ServiceEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

Result<LaunchPlan> MakeLaunchPlan(const LaunchSpec& spec,
                                  const std::vector<std::string>& service_env) {
  if (spec.argv.empty()) return Error(Status::InvalidArgument("job has an empty argv"));
  for (std::size_t i = 0; i < spec.argv.size(); ++i) {
    if (HasNul(spec.argv[i])) {
      return Error(Status::InvalidArgument("argv[" + std::to_string(i) + "] contains a NUL byte"));
    }
  }
  if (spec.job_dir.empty()) return Error(Status::InvalidArgument("job has no job_dir"));
  LaunchPlan plan;
  plan.env = service_env;
  for (const auto& [name, value] : spec.env) {
    if (name.empty() || name.find('=') != std::string::npos || HasNul(name) || HasNul(value)) {
      return Error(Status::InvalidArgument("invalid environment variable name '" + name + "'"));
    }
    bool replaced = false;
    for (std::string& entry : plan.env) {
      if (NameOf(entry) == name) {
        entry = name + "=" + value;
        replaced = true;
      }
    }
    if (!replaced) plan.env.push_back(name + "=" + value);
  }
  if (!spec.gpu_shim.empty()) {
    auto needs = NeedsGpuShim(plan.env);
    if (!needs) return Error(needs.error());
    if (*needs) {
      std::string* preload = nullptr;
      for (std::string& entry : plan.env) {
        if (NameOf(entry) == "LD_PRELOAD") preload = &entry;
      }
      if (preload == nullptr) preload = &plan.env.emplace_back("LD_PRELOAD=");
      *preload =
          "LD_PRELOAD=" + PreloadWithShim(spec.gpu_shim, std::string_view(*preload).substr(11));
    }
  }
  // PATH from the environment the job will actually have (the job's override wins).
  std::string_view path = kDefaultPath;
  for (const std::string& entry : plan.env) {
    if (NameOf(entry) == "PATH") path = std::string_view(entry).substr(5);
  }
  auto program = ResolveProgram(spec.argv[0], path);
  if (!program) return Error(program.error());
  plan.program = std::move(*program);
  plan.args = spec.argv;
  for (std::string& a : plan.args) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);
  for (std::string& e : plan.env) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  plan.job_dir = spec.job_dir.string();
  plan.workdir = spec.workdir.empty() ? plan.job_dir : spec.workdir.string();
  plan.stdout_path = (spec.job_dir / "stdout.log").string();
  plan.stderr_path = (spec.job_dir / "stderr.log").string();
  plan.record_path = (spec.job_dir / kExitRecordName).string();
  plan.record_temp_path = (spec.job_dir / kExitRecordTempName).string();
  return plan;
}

}  // namespace gpupool::executor
