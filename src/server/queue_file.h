// The queue file of `gpupool serve --queues FILE`: the queues of the pool (queue/queue_set.h) in
// YAML. The same text is the body of PUT /api/v1/queues (JSON, being YAML, works too).
//
//   queues:
//     - name: research     # required; jobs name it in their `queue` (1-64 of a-z 0-9 - _ .)
//       guaranteed: 16     # GPUs guaranteed (default 0)
//       limit: 32          # GPUs at most, borrowing included (default: no limit)
//       weight: 2          # fair-share weight (default 1)
//       parent: org        # the parent queue (default: a top-level queue)
//       models:            # per GPU model, by the pool's model names (default: none)
//         H100: {guaranteed: 8, limit: 12}   # 8 of the 16 guaranteed are H100; 12 H100 at most
//         A100: {limit: 4}
//
// `queues: []` is a pool without queues. A top-level `order: NAME` (scheduler/job_order.h:
// priority, fifo, sjf, srtf, las, las:T1,T2,..., drf, qssf, gittins) sets the pool's job order
// inside the queues (and across them for drf); without it the service's --order holds. Per-model
// shares follow QueueSet (queue/queue_set.h): a model's `guaranteed` is part of the queue's, whose
// own `guaranteed`, when not given, is the sum of its models'; a model's `limit` caps the GPUs of
// that model (the total `limit` still holds). Whether the pool has the models is the scheduler's
// check, not the file's.
//
// Errors: InvalidArgument "FILE:LINE: queues[i].MEMBER: what" for a missing or unknown member, a
// value of the wrong type, and every rule of QueueSet::Create (a repeated name, an unknown parent,
// a cycle, a limit below the guarantee, ...), the line being that of the member when it is
// given, else of its queue (per model: "queues[0].models.H100.limit", at the line of that
// member, else of the model); "FILE:LINE: malformed YAML: ..." for text that is not YAML;
// NotFound for a missing file. The whole file is refused on the first error.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "queue/queue_set.h"

namespace gpupool::server {

// A queue file: the job order it names ("" when it names none) and the queues.
struct QueueConfig {
  std::string order;
  std::vector<queue::QueueSpec> queues;
};

Result<QueueConfig> LoadQueueConfig(const std::string& path);
// The same for YAML text; `file` names it in errors. `member`, when given, receives the member at
// fault on error ("queues[1].limit", "queues", "order"; "" for malformed YAML). A top-level member
// other than `order` and `queues` is an error.
Result<QueueConfig> ParseQueueConfig(const std::string& text, const std::string& file,
                                     std::string* member = nullptr);
// The queues of ParseQueueConfig alone.
Result<std::vector<queue::QueueSpec>> ParseQueueFile(const std::string& text,
                                                     const std::string& file,
                                                     std::string* member = nullptr);
// The configuration as a queue file: its `order` line when it names one, then QueueFileText.
std::string QueueConfigText(const QueueConfig& config);

// The queues as a queue file, members at their defaults left out, numbers written so that they
// read back exactly: ParseQueueFile(QueueFileText(q)) gives q again, and two lists of queues are
// the same configuration exactly when their texts are equal.
std::string QueueFileText(const std::vector<queue::QueueSpec>& queues);

// What changes from `before` to `after`, one line per queue that changes, in the order of
// `before` then the added queues of `after`: "added 'vision' (guaranteed 0, limit 6, weight 1,
// parent research, H100 guaranteed 0 limit 4)",
// "removed 'old'", "'research': limit 12 -> 8, weight 1 -> 2, models.H100.limit none -> 8,
// models.A100 removed, models.T4 added (guaranteed 0, limit 2)" (a limit of none is "none").
// Empty when nothing changes (the order of the queues aside).
std::vector<std::string> QueueChanges(const std::vector<queue::QueueSpec>& before,
                                      const std::vector<queue::QueueSpec>& after);

}  // namespace gpupool::server
