#include "executor/exit_record.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <system_error>

namespace gpupool::executor {
namespace {

// Appends `text` at buf[*len]; false when it does not fit.
bool Append(const char* text, char* buf, std::size_t capacity, std::size_t* len) {
  for (; *text != '\0'; ++text) {
    if (*len >= capacity) return false;
    buf[(*len)++] = *text;
  }
  return true;
}

// Decimal text of `value` without snprintf (which is not async-signal-safe).
bool AppendInt(int value, char* buf, std::size_t capacity, std::size_t* len) {
  char digits[16];
  int n = 0;
  // Work on the negative side so that INT_MIN does not overflow.
  int v = value < 0 ? value : -value;
  do {
    digits[n++] = static_cast<char>('0' - v % 10);
    v /= 10;
  } while (v != 0);
  if (value < 0) digits[n++] = '-';
  while (n > 0) {
    if (*len >= capacity) return false;
    buf[(*len)++] = digits[--n];
  }
  return true;
}

int WriteAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace

std::size_t FormatExitRecord(const ExitRecord& record, char* buf, std::size_t capacity) {
  std::size_t len = 0;
  const bool ok =
      Append("{\"pid\":", buf, capacity, &len) && AppendInt(record.pid, buf, capacity, &len) &&
      Append(",\"exit_code\":", buf, capacity, &len) &&
      AppendInt(record.exit_code, buf, capacity, &len) &&
      Append(",\"signal\":", buf, capacity, &len) &&
      AppendInt(record.signal, buf, capacity, &len) && Append("}\n", buf, capacity, &len);
  return ok ? len : 0;
}

int WriteExitRecordAtomically(const ExitRecord& record, const char* temp_path,
                              const char* final_path, const char* dir_path) {
  char text[96];
  const std::size_t len = FormatExitRecord(record, text, sizeof text);
  if (len == 0) return EOVERFLOW;
  const int fd = open(temp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  int err = WriteAll(fd, text, len);
  if (err == 0 && fsync(fd) != 0) err = errno;
  if (close(fd) != 0 && err == 0 && errno != EINTR) err = errno;
  if (err != 0) {
    unlink(temp_path);
    return err;
  }
  if (rename(temp_path, final_path) != 0) {
    err = errno;
    unlink(temp_path);
    return err;
  }
  // The rename is durable only once the directory entry is on disk.
  const int dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return 0;
}

Result<std::optional<ExitRecord>> ReadExitRecord(const std::filesystem::path& job_dir) {
  const std::filesystem::path path = job_dir / kExitRecordName;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !ec) return std::optional<ExitRecord>();
    return Error(Status::IoError("cannot read " + path.string() + ": " +
                                 std::generic_category().message(err)));
  }
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json json =
      nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Error(Status::InvalidArgument(path.string() + ": not an exit record: " + text.str()));
  }
  ExitRecord record;
  for (const auto& [name, field] :
       {std::pair{"pid", &record.pid}, std::pair{"exit_code", &record.exit_code},
        std::pair{"signal", &record.signal}}) {
    const auto it = json.find(name);
    if (it == json.end() || !it->is_number_integer() || it->get<std::int64_t>() < INT_MIN ||
        it->get<std::int64_t>() > INT_MAX) {
      return Error(
          Status::InvalidArgument(path.string() + ": " + name + ": missing or not an integer"));
    }
    *field = it->get<int>();
  }
  if (record.pid <= 0 || record.signal < 0 || (record.signal == 0) == (record.exit_code < 0)) {
    return Error(
        Status::InvalidArgument(path.string() + ": inconsistent exit record: " + json.dump()));
  }
  return std::optional<ExitRecord>(record);
}

}  // namespace gpupool::executor
