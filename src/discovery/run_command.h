// Moved: the runner lives in common/run_command.h (the simulator's plot step needs it, and sim
// may not depend on discovery). This header keeps the old names for the callers not yet moved;
// new code includes common/run_command.h and uses gpupool::RunCommand.
#pragma once

#include "common/run_command.h"

namespace gpupool::discovery {

using ::gpupool::CommandResult;
using ::gpupool::FindOnPath;
using ::gpupool::RunCommand;

}  // namespace gpupool::discovery
