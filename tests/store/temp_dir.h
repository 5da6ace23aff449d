// The tests' one scratch directory (tests/testing/temp_dir.h), under the store tests' name.
#pragma once

#include "testing/temp_dir.h"

namespace gpupool::store::testing {
using gpupool::testing::TempDir;
}  // namespace gpupool::store::testing
