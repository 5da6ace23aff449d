// DataDir: where gpupool finds its bundled data (hardware catalog, model presets, traces, the demo
// inventory, the OpenAPI document, their licence notes).
//
// Looked up in this order; the first that applies wins:
//   1. $GPUPOOL_DATA_DIR, when set and not empty. Taken as given, even when it does not exist (the
//      reader's error then names the file it wanted there).
//   2. The install layout: the running binary's directory (read from /proc/self/exe, symlinks
//      resolved) joined with the relative path from the install's bin/ to its share/gpupool/
//      (normally ../share/gpupool), when that directory exists. An installed tree therefore works
//      wherever it is moved or unpacked.
//   3. The build tree: the source tree's data/ compiled into the binary, only when the running
//      binary lies inside the build directory it was compiled in. An installed binary never reads
//      the source tree, even when the source tree is still there.
//
// Thread safety: reads the environment and the file system; no state of its own.
#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"

namespace gpupool {

// What the lookup looks at. CurrentDataDirProbe() fills it from the process (environment,
// /proc/self/exe, the paths compiled in); tests build their own.
struct DataDirProbe {
  bool env_set = false;                    // GPUPOOL_DATA_DIR is set and not empty
  std::string env_value;                   // its value
  std::filesystem::path exe;               // the running binary, absolute; empty when unknown
  std::string exe_error;                   // why `exe` is unknown
  std::filesystem::path install_relative;  // from the binary's directory to the installed data
  std::filesystem::path build_dir;         // the build directory the binary was compiled in
  std::filesystem::path source_data_dir;   // the source tree's data/
};

DataDirProbe CurrentDataDirProbe();

// The data directory by the order above. NotFound when none applies, with a message that lists
// every place looked at and why each was not used.
Result<std::filesystem::path> FindDataDir(const DataDirProbe& probe);
Result<std::filesystem::path> FindDataDir();

// FindDataDir()'s directory; when none is found, the install-layout path (empty when the binary's
// location is unknown), so that the reader's error names a place. The full "looked at" list is
// FindDataDir()'s error; `gpupool` prints it when a command fails without a data directory.
std::filesystem::path DataDir();

}  // namespace gpupool
