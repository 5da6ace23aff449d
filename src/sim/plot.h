// Plots of the simulators' reports: the pieces `sim fill` and `sim replay` share to write a
// gnuplot script beside its CSV data and draw it (SVG and PNG) where gnuplot is installed.
// gnuplot runs through RunCommand with the output folder as its working directory and the
// script's name as its one argument (execvp, no shell), and the scripts name only files of that
// folder, so no path or name from the user is ever parsed by a shell or by gnuplot.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gpupool::sim {

// Writes `text` to `path` (IoError naming the file).
Status WriteTextFile(const std::filesystem::path& path, const std::string& text);

// `text` as a gnuplot single-quoted string literal. Inside single quotes gnuplot treats only the
// quote itself specially (written twice); backslashes, backquotes and '@' are literal, so
// nothing in a trace or policy name is run or expanded. A literal cannot span lines: control
// characters become '?'. Titles are printed with `noenhanced`, so '_' or '^' stay as written.
std::string GnuplotString(std::string_view text);

// Runs gnuplot on DIR/SCRIPT (60 s at most). Never an error: where gnuplot is missing or fails,
// `warning` (when not null) says so and the data files stay.
void RunGnuplot(const std::string& dir, const std::string& script, std::string* warning);

}  // namespace gpupool::sim
