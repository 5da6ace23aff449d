#include "sim/plot.h"

#include <fstream>

#include "common/run_command.h"
#include "common/strings.h"

namespace gpupool::sim {

Status WriteTextFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::IoError(path.string() + ": cannot open for writing");
  out << text;
  out.flush();
  if (!out) return Status::IoError(path.string() + ": write failed");
  return Status::Ok();
}

std::string GnuplotString(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "''";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out + "'";
}

void RunGnuplot(const std::string& dir, const std::string& script, std::string* warning) {
  const std::string gnuplot = FindOnPath("gnuplot");
  if (gnuplot.empty()) {
    if (warning) *warning = "gnuplot not found: wrote " + script + " and its data but no figure";
    return;
  }
  CommandOptions options;
  options.timeout_ms = 60'000;
  options.working_dir = dir;
  const CommandResult plot = RunCommand({gnuplot, script}, options);
  if (plot.exit_code != 0 && warning) {
    const std::string why = !plot.started    ? plot.start_error
                            : plot.timed_out ? std::string("killed after 60 s")
                                             : Trim(plot.output);
    *warning = "gnuplot failed on " + (std::filesystem::path(dir) / script).string() +
               (why.empty() ? "" : ": " + why);
  }
}

}  // namespace gpupool::sim
