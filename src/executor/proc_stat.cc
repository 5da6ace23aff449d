#include "executor/proc_stat.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <string>

namespace gpupool::executor {

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(close + 1);
  // Fields after the command name: index 0 is field 3 (state), index 19 is field 22 (starttime).
  ProcStat stat;
  int index = 0;
  while (!rest.empty()) {
    const std::size_t begin = rest.find_first_not_of(' ');
    if (begin == std::string_view::npos) break;
    rest.remove_prefix(begin);
    const std::size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    const std::string_view field = rest.substr(0, end);
    if (index == 0) {
      if (field.size() != 1) return std::nullopt;
      stat.state = field[0];
    } else if (index == 19) {
      const auto [ptr, ec] =
          std::from_chars(field.data(), field.data() + field.size(), stat.start_ticks);
      if (ec != std::errc() || ptr != field.data() + field.size()) return std::nullopt;
      return stat;
    }
    ++index;
    rest.remove_prefix(end);
    if (!rest.empty() && rest.front() == '\n') break;
  }
  return std::nullopt;
}

std::optional<ProcStat> ReadProcStat(int pid) {
  if (pid <= 0) return std::nullopt;
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];  // the stat line is well under 1 KiB (comm is at most 64 bytes)
  std::size_t size = 0;
  for (;;) {
    const ssize_t n = read(fd, buf + size, sizeof buf - size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size += static_cast<std::size_t>(n);
    if (size == sizeof buf) break;
  }
  close(fd);
  return ParseProcStat(std::string_view(buf, size));
}

bool IsSameLiveProcess(int pid, std::int64_t start_ticks) {
  const std::optional<ProcStat> stat = ReadProcStat(pid);
  return stat && stat->start_ticks == start_ticks && stat->state != 'Z' && stat->state != 'X';
}

}  // namespace gpupool::executor
