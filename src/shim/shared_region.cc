#include "shim/shared_region.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>

namespace gpupool::shim {
namespace {

constexpr std::uint32_t kStateNew = 0;
constexpr std::uint32_t kStateInit = 1;
constexpr std::uint32_t kStateReady = 2;

// /proc/<pid>/stat's state (field 3) and start time (field 22); false when unreadable. Read with
// open/read so that no stdio buffer is allocated.
bool ReadStat(int pid, char* state, std::int64_t* start_ticks) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  const char* p = strrchr(buf, ')');
  if (p == nullptr) return false;
  ++p;
  int field = 2;
  while (*p != '\0' && field < 22) {
    while (*p == ' ') ++p;
    ++field;
    if (field == 3) *state = *p;
    if (field == 22) {
      *start_ticks = std::strtoll(p, nullptr, 10);
      return true;
    }
    while (*p != '\0' && *p != ' ') ++p;
  }
  return false;
}

}  // namespace

std::int64_t ProcessStartTicks(int pid) {
  char state = 0;
  std::int64_t ticks = 0;
  return ReadStat(pid, &state, &ticks) ? ticks : 0;
}

bool ProcessAlive(int pid, std::int64_t start_ticks) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  char state = 0;
  std::int64_t ticks = 0;
  if (!ReadStat(pid, &state, &ticks)) {
    // Another pid namespace or a /proc we cannot read: kill() said it exists.
    return true;
  }
  if (state == 'Z' || state == 'X') return false;
  return start_ticks == 0 || ticks == start_ticks;
}

std::string SharedRegion::RegionName(std::int64_t job_id, int pid, const std::string& uuid) {
  std::string name = "/gpupool-";
  name += job_id > 0 ? std::to_string(job_id) : "pid" + std::to_string(pid);
  name += "-";
  for (char c : uuid) name += (c == '/' ? '_' : c);
  return name;
}

std::unique_ptr<SharedRegion> SharedRegion::Open(const std::string& name, std::uint64_t cap_bytes,
                                                 std::string* error) {
  const int fd = shm_open(name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "shm_open " + name + ": " + strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || (static_cast<std::size_t>(st.st_size) < sizeof(Layout) &&
                              ftruncate(fd, sizeof(Layout)) != 0)) {
    *error = "sizing " + name + ": " + strerror(errno);
    close(fd);
    return nullptr;
  }
  void* mem = mmap(nullptr, sizeof(Layout), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (mem == MAP_FAILED) {
    *error = "mmap " + name + ": " + strerror(errno);
    return nullptr;
  }
  // A new object is zero-filled: state kStateNew. One opener wins the initialisation.
  auto* layout = static_cast<Layout*>(mem);
  std::uint32_t expected = kStateNew;
  if (layout->state.compare_exchange_strong(expected, kStateInit, std::memory_order_acq_rel)) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&layout->mu, &attr);
    pthread_mutexattr_destroy(&attr);
    layout->layout_version = kLayoutVersion;
    layout->cap_bytes = cap_bytes;
    layout->state.store(kStateReady, std::memory_order_release);
  } else {
    for (int i = 0; layout->state.load(std::memory_order_acquire) != kStateReady; ++i) {
      if (i == 5000) {
        *error = name + " was left half made by a process that died; remove /dev/shm" + name;
        munmap(mem, sizeof(Layout));
        return nullptr;
      }
      const timespec ms{0, 1'000'000};
      nanosleep(&ms, nullptr);
    }
  }
  if (layout->layout_version != kLayoutVersion) {
    *error = name + " has layout " + std::to_string(layout->layout_version) + ", this shim " +
             std::to_string(kLayoutVersion) + " (a job mixing shim versions)";
    munmap(mem, sizeof(Layout));
    return nullptr;
  }
  return std::unique_ptr<SharedRegion>(new SharedRegion(layout));
}

SharedRegion::~SharedRegion() { munmap(l_, sizeof(Layout)); }

bool SharedRegion::Unlink(const std::string& name) { return shm_unlink(name.c_str()) == 0; }

int SharedRegion::UnlinkJob(std::int64_t job_id) {
  if (job_id <= 0) return 0;
  const std::string prefix = "gpupool-" + std::to_string(job_id) + "-";
  DIR* dir = opendir("/dev/shm");
  if (dir == nullptr) return 0;
  int removed = 0;
  while (const dirent* e = readdir(dir)) {
    if (std::string(e->d_name).rfind(prefix, 0) == 0 && Unlink("/" + std::string(e->d_name))) {
      ++removed;
    }
  }
  closedir(dir);
  return removed;
}

bool SharedRegion::Lock() {
  const int rc = pthread_mutex_lock(&l_->mu);
  if (rc == EOWNERDEAD) {
    // Its holder died; every change under the lock is a single store, so the records are whole.
    pthread_mutex_consistent(&l_->mu);
    ReapLocked();
    return true;
  }
  return rc == 0;
}

void SharedRegion::Unlock() { pthread_mutex_unlock(&l_->mu); }

std::uint64_t SharedRegion::SumLocked() const {
  std::uint64_t sum = 0;
  for (const Record& r : l_->records) {
    if (r.pid != 0) sum += r.bytes;
  }
  return sum;
}

void SharedRegion::ReapLocked() {
  const int self = getpid();
  for (Record& r : l_->records) {
    if (r.pid != 0 && r.pid != self && !ProcessAlive(r.pid, r.start_ticks)) {
      r.bytes = 0;
      r.start_ticks = 0;
      r.pid = 0;
    }
  }
}

int SharedRegion::Attach(int pid, std::int64_t start_ticks) {
  if (!Lock()) return -1;
  ReapLocked();
  int slot = -1;
  for (int i = 0; i < kMaxProcesses; ++i) {
    Record& r = l_->records[i];
    if (r.pid == pid && r.start_ticks == start_ticks) {
      slot = i;  // attached before (a second device handle, a re-attach after fork)
      break;
    }
    if (r.pid == 0 && slot < 0) slot = i;
  }
  if (slot >= 0 && l_->records[slot].pid != pid) {
    l_->records[slot].bytes = 0;
    l_->records[slot].start_ticks = start_ticks;
    l_->records[slot].pid = pid;
  }
  Unlock();
  return slot;
}

bool SharedRegion::Reserve(int slot, std::uint64_t bytes, std::uint64_t* used_out) {
  if (slot < 0 || slot >= kMaxProcesses || !Lock()) return false;
  std::uint64_t used = SumLocked();
  const std::uint64_t cap = l_->cap_bytes;
  if (cap != 0 && (bytes > cap || used > cap - bytes)) {
    ReapLocked();
    used = SumLocked();
  }
  if (used_out != nullptr) *used_out = used;
  const bool ok = cap == 0 || (bytes <= cap && used <= cap - bytes);
  if (ok) l_->records[slot].bytes += bytes;
  Unlock();
  return ok;
}

void SharedRegion::Release(int slot, std::uint64_t bytes) {
  if (slot < 0 || slot >= kMaxProcesses || !Lock()) return;
  Record& r = l_->records[slot];
  r.bytes = r.bytes > bytes ? r.bytes - bytes : 0;
  Unlock();
}

std::uint64_t SharedRegion::Used() {
  if (!Lock()) return 0;
  ReapLocked();
  const std::uint64_t used = SumLocked();
  Unlock();
  return used;
}

std::uint64_t SharedRegion::Held(int slot) {
  if (slot < 0 || slot >= kMaxProcesses || !Lock()) return 0;
  const std::uint64_t held = l_->records[slot].bytes;
  Unlock();
  return held;
}

std::uint64_t SharedRegion::cap() const { return l_->cap_bytes; }

std::int64_t SharedRegion::Pace(std::int64_t now_ns, std::int64_t cost_ns,
                                const PaceParams& params) {
  if (!Lock()) return 0;
  const std::int64_t wait = Charge(l_->pace, now_ns, cost_ns, params);
  Unlock();
  return wait;
}

}  // namespace gpupool::shim
