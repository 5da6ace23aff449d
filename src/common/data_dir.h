// DataDir: where gpupool finds its bundled data (catalogs, model presets, traces).
// The environment variable GPUPOOL_DATA_DIR wins; otherwise the source tree's data/ that the
// binary was built from.
#pragma once

#include <filesystem>

namespace gpupool {

std::filesystem::path DataDir();

}  // namespace gpupool
