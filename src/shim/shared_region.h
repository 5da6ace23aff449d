// SharedRegion: the accounting of one GPU for one job, shared by all the job's processes.
//
// It is a POSIX shared memory object, "/gpupool-<job>-<GPU UUID>" (RegionName), that holds the
// job's memory cap for that GPU, one record per attached process (its pid, its start time and the
// bytes it holds) and the job's pacing state (pacer.h). The job's use is the sum of the records.
// Every change is made under one process-shared mutex that is PTHREAD_MUTEX_ROBUST: a process
// killed while holding it does not wedge the others; the next locker gets EOWNERDEAD, marks the
// mutex consistent and goes on (each change is a single store, so the records stay whole).
//
// A process that dies (even by SIGKILL, mid-allocation) gives its memory back: a record whose
// process is gone, a zombie, or whose pid now names a newer process (another start time) is
// reaped, that is cleared, whenever a reservation would go over the cap, whenever the use is read
// (Used) and when a process attaches. So a dead process's bytes count only until someone needs
// them or asks.
//
// Creation: the first process to open the name creates the object and initialises it; the others
// wait (at most 5 s) until it is ready. The cap is the creator's; later openers with another cap
// keep the creator's. The object outlives the processes (a few KiB in /dev/shm); Unlink and
// UnlinkJob remove it.
//
// Thread safety: every method may be called from any thread of any process of the job.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "shim/pacer.h"

namespace gpupool::shim {

class SharedRegion {
 public:
  static constexpr int kMaxProcesses = 256;  // processes of one job on one GPU at a time
  static constexpr std::uint32_t kLayoutVersion = 1;

  // "/gpupool-<job_id>-<uuid>"; job_id 0 (no job) gives "/gpupool-pid<pid>-<uuid>", a region
  // private to the process. `uuid` is the GPU's "GPU-xxxxxxxx-..." text.
  static std::string RegionName(std::int64_t job_id, int pid, const std::string& uuid);

  // Opens (creating if needed) the region `name` with cap `cap_bytes` (0 = none: only the records
  // and the pacing are used). nullptr with *error set when shm_open, ftruncate or mmap fail, the
  // object has another layout, or its creator never finished it. Destroying the object unmaps
  // the region (the shim never does: its hooks may run while the process exits).
  static std::unique_ptr<SharedRegion> Open(const std::string& name, std::uint64_t cap_bytes,
                                            std::string* error);
  // shm_unlink; true when it was there.
  static bool Unlink(const std::string& name);
  // Removes every region of job `job_id` (one per GPU it used), by listing /dev/shm; the number
  // removed. For the executor once the job has ended: processes still mapping a region keep it.
  static int UnlinkJob(std::int64_t job_id);

  // Claims a record for the process `pid` started at `start_ticks` (field 22 of /proc/pid/stat),
  // reaping dead records first. The record's index, or -1 when all kMaxProcesses are taken by live
  // processes (or the lock is unrecoverable).
  int Attach(int pid, std::int64_t start_ticks);

  // Adds `bytes` to record `slot` unless the job's use would go over the cap; false then (and
  // nothing changes). *used_out, when given, is the job's use before the call.
  bool Reserve(int slot, std::uint64_t bytes, std::uint64_t* used_out = nullptr);
  // Takes `bytes` off record `slot` (never below 0).
  void Release(int slot, std::uint64_t bytes);
  // The job's use on this GPU after reaping dead processes.
  std::uint64_t Used();
  // The bytes record `slot` holds.
  std::uint64_t Held(int slot);
  std::uint64_t cap() const;

  // Pacing (pacer.h): charges `cost_ns` at `now_ns` to the job's shared credit; the wait.
  std::int64_t Pace(std::int64_t now_ns, std::int64_t cost_ns, const PaceParams& params);

  // The lock itself, for tests that kill a process holding it. Lock returns false only when the
  // mutex is unrecoverable.
  bool Lock();
  void Unlock();

 private:
  struct Record {
    std::int32_t pid;
    std::int64_t start_ticks;
    std::uint64_t bytes;
  };
  struct Layout {
    std::atomic<std::uint32_t> state;  // 0 new, 1 being initialised, 2 ready
    std::uint32_t layout_version;
    std::uint64_t cap_bytes;
    pthread_mutex_t mu;
    PaceState pace;
    Record records[kMaxProcesses];
  };

  explicit SharedRegion(Layout* layout) : l_(layout) {}

 public:
  ~SharedRegion();
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;

 private:
  std::uint64_t SumLocked() const;
  void ReapLocked();

  Layout* l_;
};

// Whether `pid`, started at `start_ticks` (0: not checked), still runs (a zombie does not).
bool ProcessAlive(int pid, std::int64_t start_ticks);
// Field 22 of /proc/<pid>/stat (start time in clock ticks); 0 when unreadable.
std::int64_t ProcessStartTicks(int pid);

}  // namespace gpupool::shim
