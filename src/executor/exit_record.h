// The exit record: the file a job's shepherd writes into the job directory when the job's main
// process has ended, so that the outcome survives the service (a restarted service reads it on
// adoption; see local_executor.h).
//
// Format: one line of JSON, `{"pid":1234,"exit_code":3,"signal":0}`. `pid` is the job's main pid
// (= its process group), so a record left over from an earlier run of the same job directory is
// never mistaken for this run's. Exactly one of exit_code (>= 0) and signal (> 0) is meaningful:
// a job killed by a signal has exit_code -1.
//
// Writing is atomic (a temporary file, fsync, rename, fsync of the directory): a reader sees either
// no record or a complete one, even after a power cut.
//
// Thread safety: FormatExitRecord and WriteExitRecordAtomically are async-signal-safe (no
// allocation, no locks, only system calls); they run in the shepherd, a fork of the multi-threaded
// service. ReadExitRecord is an ordinary function.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>

#include "common/status.h"

namespace gpupool::executor {

inline constexpr char kExitRecordName[] = "exit.json";
inline constexpr char kExitRecordTempName[] = ".exit.json.tmp";

struct ExitRecord {
  int pid = 0;         // the job's main pid (= pgid)
  int exit_code = -1;  // the exit status when the job exited normally, else -1
  int signal = 0;      // the signal that killed it, else 0

  friend bool operator==(const ExitRecord&, const ExitRecord&) = default;
};

// Writes the record's text into buf (no terminating NUL). Returns the length, or 0 when `capacity`
// is too small (64 bytes always suffice). Async-signal-safe.
std::size_t FormatExitRecord(const ExitRecord& record, char* buf, std::size_t capacity);

// Writes the record to `temp_path`, fsyncs it, renames it to `final_path` and fsyncs the directory
// `dir_path`. Returns 0 or the errno of the first step that failed. Async-signal-safe.
int WriteExitRecordAtomically(const ExitRecord& record, const char* temp_path,
                              const char* final_path, const char* dir_path);

// Reads job_dir/exit.json. nullopt when there is none; InvalidArgument when it exists but is not a
// valid record (naming the file); IoError when it cannot be read.
Result<std::optional<ExitRecord>> ReadExitRecord(const std::filesystem::path& job_dir);

}  // namespace gpupool::executor
