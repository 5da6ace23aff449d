// The tests' one scratch directory (tests/testing/temp_dir.h), under the discovery tests' name.
#pragma once

#include "testing/temp_dir.h"

namespace gpupool::discovery::testing {
using gpupool::testing::TempDir;
}  // namespace gpupool::discovery::testing
