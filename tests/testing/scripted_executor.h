// ScriptedExecutor: an executor::Executor without processes, for service tests that decide
// themselves when each job ends.
//
// Launch records the job (its id, the time on the test's clock, the environment the service
// gave it) and "runs" it until the test calls Finish(id, exit_code); the next Poll reports that
// exit. Stop records the call and ends the job as killed by SIGTERM at the next Poll.
//
// Lockstep (optional): with `lockstep`, Poll blocks until the test calls Step(). The service's
// scheduling thread calls Poll once per pass (exits, then a cycle, then the launches), so Step()
// lets exactly one pass run, with everything the test did before it (submissions, Finish calls,
// the clock), and returns once that pass is over (the thread is back in Poll). RunFreely() ends
// the lockstep for good: call it before destroying the service, whose thread may be waiting in
// Poll (RunFreelyAtExit does it).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "executor/executor.h"

namespace gpupool::testing {

class ScriptedExecutor final : public executor::Executor {
 public:
  struct Launched {
    std::int64_t job_id = 0;
    std::int64_t at_ms = 0;  // the test's clock at Launch
    std::vector<std::pair<std::string, std::string>> env;

    // The value of variable `name` ("" when unset).
    std::string Env(const std::string& name) const {
      for (const auto& [k, v] : env) {
        if (k == name) return v;
      }
      return "";
    }
  };

  // `now_ms`: the test's clock, read at each Launch.
  ScriptedExecutor(std::function<std::int64_t()> now_ms, bool lockstep)
      : now_ms_(std::move(now_ms)), lockstep_(lockstep) {}

  // ---- the test's side
  // The running job `id` ends with `exit_code`; the next Poll reports it. false when the job is not
  // running.
  bool Finish(std::int64_t id, int exit_code) {
    std::lock_guard lock(mu_);
    const auto it = running_.find(id);
    if (it == running_.end() || it->second) return false;
    it->second = executor::ExitInfo{id, exit_code, 0, false,
                                    "exited with code " + std::to_string(exit_code)};
    return true;
  }

  // Lockstep: lets one pass of the scheduling thread run and waits until it is over. false when
  // it is not over within `timeout` (the service's thread is stuck: a failure of the test).
  bool Step(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mu_);
    ++released_;
    cv_.notify_all();
    const std::int64_t target = released_ + 1;
    return cv_.wait_for(lock, timeout, [&] { return entered_ >= target; });
  }

  // Ends the lockstep: Poll returns at once from now on.
  void RunFreely() {
    std::lock_guard lock(mu_);
    lockstep_ = false;
    cv_.notify_all();
  }

  std::vector<Launched> launched() const {
    std::lock_guard lock(mu_);
    return launched_;
  }
  // Every Stop call's job id, in order (also for a job not tracked, which Stop answers NotFound).
  std::vector<std::int64_t> stopped() const {
    std::lock_guard lock(mu_);
    return stopped_;
  }

  // ---- executor::Executor
  Result<executor::ProcessRef> Launch(const executor::LaunchSpec& spec) override {
    std::lock_guard lock(mu_);
    if (running_.contains(spec.job_id)) {
      return Error(
          Status::FailedPrecondition("job " + std::to_string(spec.job_id) + " is already tracked"));
    }
    running_.emplace(spec.job_id, std::nullopt);
    launched_.push_back(Launched{spec.job_id, now_ms_(), spec.env});
    // A reference that ProcessRefFromJson accepts; nothing is adopted from it.
    return executor::ProcessRef{1, 0, static_cast<int>(spec.job_id)};
  }

  Status Stop(std::int64_t job_id, std::chrono::milliseconds /*grace*/) override {
    std::lock_guard lock(mu_);
    stopped_.push_back(job_id);
    const auto it = running_.find(job_id);
    if (it == running_.end()) return Status::NotFound("job " + std::to_string(job_id));
    if (!it->second) it->second = executor::ExitInfo{job_id, -1, 15, false, "killed by SIGTERM"};
    return Status::Ok();
  }

  Result<bool> Adopt(std::int64_t job_id, const executor::ProcessRef& /*ref*/,
                     const std::filesystem::path& /*job_dir*/) override {
    return Error(Status::FailedPrecondition("job " + std::to_string(job_id) +
                                            ": the scripted executor adopts nothing"));
  }

  std::vector<executor::ExitInfo> Poll() override {
    std::unique_lock lock(mu_);
    const std::int64_t me = ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !lockstep_ || released_ >= me; });
    std::vector<executor::ExitInfo> out;
    for (auto it = running_.begin(); it != running_.end();) {
      if (it->second) {
        out.push_back(*it->second);
        it = running_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

  std::size_t running() const override {
    std::lock_guard lock(mu_);
    return running_.size();
  }

 private:
  const std::function<std::int64_t()> now_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool lockstep_;
  std::int64_t entered_ = 0;   // Poll calls begun
  std::int64_t released_ = 0;  // Poll calls the test has let return
  // Tracked jobs: nullopt while running, the exit once it has ended and Poll has yet to report it.
  std::map<std::int64_t, std::optional<executor::ExitInfo>> running_;
  std::vector<Launched> launched_;
  std::vector<std::int64_t> stopped_;
};

// Ends the lockstep when it goes out of scope. Declare it after the service that owns the
// executor, so that the service's thread is let go before the service is destroyed, also when a
// test returns early (a failed ASSERT).
class RunFreelyAtExit {
 public:
  explicit RunFreelyAtExit(ScriptedExecutor& x) : x_(x) {}
  ~RunFreelyAtExit() { x_.RunFreely(); }
  RunFreelyAtExit(const RunFreelyAtExit&) = delete;
  RunFreelyAtExit& operator=(const RunFreelyAtExit&) = delete;

 private:
  ScriptedExecutor& x_;
};

}  // namespace gpupool::testing
