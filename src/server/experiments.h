// Experiments: the JSON outputs of `gpupool sim fill --json` and `gpupool sim replay --json`
// (docs/fill-experiment.md, docs/replay.md) kept in one folder (`serve --experiments DIR`, default
// DATA_DIR/experiments) and shown by the dashboard's Experiments page. The service only reads the
// folder: a user puts outputs there (`gpupool sim fill --json > DIR/NAME.json`).
//
// ListExperiments: every `*.json` file directly in the folder, by name, with its kind ("fill" or
// "replay", told by its members) or, for a file that is not a valid output, its error naming the
// file and the member ("a.json: policies[1].policy: must be a string"); a missing folder lists
// nothing. ReadExperiment: one file by name, {"name", "kind", "data"}: 400 for a name that is not a
// plain file name ending in .json (no '/', no leading '.'), 404 for a file that is not there, 409
// (FAILED_PRECONDITION) naming the file and member for one that is not a valid output.
//
// Thread safety: pure functions over the file system.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/api_error.h"

namespace gpupool::server {

// "fill" or "replay" for a valid output; InvalidArgument "FILE: MEMBER: why" otherwise.
Result<std::string> ExperimentKind(const nlohmann::json& j, std::string_view file);

nlohmann::json ListExperiments(const std::filesystem::path& dir);
ApiResult<nlohmann::json> ReadExperiment(const std::filesystem::path& dir, const std::string& name);

}  // namespace gpupool::server
