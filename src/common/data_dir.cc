#include "common/data_dir.h"

#include <cstdlib>

namespace gpupool {

std::filesystem::path DataDir() {
  if (const char* env = std::getenv("GPUPOOL_DATA_DIR"); env != nullptr && *env != '\0') {
    return std::filesystem::path(env);
  }
  return std::filesystem::path(GPUPOOL_SOURCE_DATA_DIR);
}

}  // namespace gpupool
