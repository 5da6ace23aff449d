// The queue file of `gpupool serve --queues FILE`: the queues of the pool (queue/queue_set.h) in
// YAML.
//
//   queues:
//     - name: research     # required; jobs name it in their `queue`
//       guaranteed: 16     # GPUs guaranteed (default 0)
//       limit: 32          # GPUs at most, borrowing included (default: no limit)
//       weight: 2          # fair-share weight (default 1)
//       parent: org        # the parent queue (default: a top-level queue)
//
// Errors: InvalidArgument "FILE:LINE: queues[i].MEMBER: what" for malformed YAML, a missing or
// unknown member, a value of the wrong type, and every rule of QueueSet::Create (a repeated name,
// an unknown parent, a cycle, a limit below the guarantee, ...); NotFound for a missing file.
// The whole file is refused on the first error.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "queue/queue_set.h"

namespace gpupool::server {

Result<std::vector<queue::QueueSpec>> LoadQueueFile(const std::string& path);
// The same for YAML text; `file` names it in errors.
Result<std::vector<queue::QueueSpec>> ParseQueueFile(const std::string& text,
                                                     const std::string& file);

}  // namespace gpupool::server
