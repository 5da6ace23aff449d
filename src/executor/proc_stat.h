// ReadProcStat: the two fields of /proc/<pid>/stat the executor needs to recognise a process it
// started, even from another incarnation of the service: its state and its start time.
//
// Thread safety: independent calls; reads procfs only.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gpupool::executor {

struct ProcStat {
  char state = '?';              // field 3: R, S, D, Z (zombie), X (dead), T, t, I ...
  std::int64_t start_ticks = 0;  // field 22: start time in clock ticks after boot
};

// nullopt when /proc/<pid>/stat does not exist (no such process) or cannot be parsed.
std::optional<ProcStat> ReadProcStat(int pid);

// Parses the text of a /proc/<pid>/stat file. The command name (field 2) is in parentheses and may
// itself contain spaces and ')', so fields are counted from the LAST ')'. nullopt on malformed
// text.
std::optional<ProcStat> ParseProcStat(std::string_view text);

// True when `pid` names the same process as recorded (`start_ticks`) and it has not ended: a zombie
// or dead entry counts as ended.
bool IsSameLiveProcess(int pid, std::int64_t start_ticks);

}  // namespace gpupool::executor
