// Test helpers: the fake NVML built by tests/discovery/CMakeLists.txt and its scripts.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>

#include "common/status.h"
#include "discovery/nvml_library.h"

namespace gpupool::discovery::testing {

inline std::string ScriptPath(const std::string& name) {
  return std::string(GPUPOOL_TEST_DATA_DIR) + "/discovery/" + name;
}

// Points the fake at tests/data/discovery/<script> and loads it.
inline Result<std::unique_ptr<NvmlLibrary>> OpenFake(const std::string& script) {
  setenv("FAKE_NVML_SCRIPT", ScriptPath(script).c_str(), 1);
  return NvmlLibrary::Open({FAKE_NVML_LIBRARY});
}

}  // namespace gpupool::discovery::testing
