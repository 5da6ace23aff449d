// Fuzz target of the service's request parser: any byte string as the body of POST /api/v1/jobs.
// The standard libFuzzer entry point, so the same file links with libFuzzer where the compiler
// supports it (Debian 12's clang 14 cannot build this code base: its <expected> needs concepts
// that clang 14 lacks); the test suite drives it with job_spec_fuzz_driver.cc.
//
// Properties checked on every input (a violation aborts):
//  - the parser never crashes, throws or hangs;
//  - an error is a 400 whose message is not empty, and whose member, when set, is rooted in a
//    member of the submission (or is the member the message starts with);
//  - an accepted spec survives the store's round trip (SpecToJson -> SpecFromJson) unchanged,
//    maps to a valid scheduler request, and its amounts are within the documented bounds.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cluster/model_table.h"
#include "cluster/pod_request.h"
#include "server/job_spec.h"

namespace {

void Require(bool ok, const char* what, const std::string& detail) {
  if (ok) return;
  std::fprintf(stderr, "job_spec_fuzz: property violated: %s: %s\n", what, detail.c_str());
  std::abort();
}

const std::vector<std::string>& Models() {
  static const std::vector<std::string> m = {"H100-SXM", "H100-PCIe", "L40S"};
  return m;
}

const gpupool::cluster::ModelTable& Table() {
  static const gpupool::cluster::ModelTable t = [] {
    gpupool::cluster::ModelTable table;
    for (const auto& m : Models()) (void)table.Intern(m);
    return table;
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using nlohmann::json;
  json body;
  try {
    body = json::parse(data, data + size);
  } catch (const json::exception&) {
    return 0;  // the HTTP layer answers 400 "not valid JSON" before the parser runs
               // (http_server.cc)
  }
  auto spec = gpupool::server::ParseSubmission(body, Models(), /*check_workdir=*/false);
  if (!spec) {
    const auto& e = spec.error();
    Require(e.http_status == 400, "status", std::to_string(e.http_status));
    Require(!e.message.empty(), "message", "empty");
    if (!e.member.empty()) {
      Require(e.message.rfind(e.member, 0) == 0, "message names the member",
              e.member + " | " + e.message);
    }
    (void)e.ToJson().dump(-1, ' ', false, json::error_handler_t::replace);
    return 0;
  }
  const auto back = gpupool::server::SpecFromJson(gpupool::server::SpecToJson(*spec));
  Require(back.has_value(), "round trip parses", back ? "" : back.error().message());
  Require(*back == *spec, "round trip equal", gpupool::server::SpecToJson(*spec).dump());
  auto req = gpupool::server::ToJobRequest(*spec, Table());
  Require(req.has_value(), "request", req ? "" : req.error().message());
  const auto st = gpupool::cluster::ValidatePodRequest(req->replica);
  Require(st.ok(), "valid pod request", st.message());
  Require(spec->replicas >= 1 && spec->replicas <= 4096, "replicas",
          std::to_string(spec->replicas));
  Require(!spec->command.empty() && !spec->command[0].empty(), "command", "empty");
  return 0;
}
