#include "server/api_error.h"

#include <gtest/gtest.h>

namespace gpupool::server {
namespace {

TEST(ApiErrorTest, StatusCodesMapToHttpInOnePlace) {
  struct Row {
    Status status;
    int http;
    const char* code;
  };
  const Row rows[] = {
      {Status::InvalidArgument("x"), 400, "INVALID_ARGUMENT"},
      {Status::NotFound("x"), 404, "NOT_FOUND"},
      {Status::FailedPrecondition("x"), 409, "FAILED_PRECONDITION"},
      {Status::Unavailable("x"), 503, "UNAVAILABLE"},
      {Status::IoError("x"), 500, "INTERNAL"},
      {Status::Internal("x"), 500, "INTERNAL"},
  };
  for (const Row& r : rows) {
    const ApiError e = FromStatus(r.status, "gpus");
    EXPECT_EQ(e.http_status, r.http) << r.code;
    EXPECT_EQ(e.code, r.code);
    EXPECT_EQ(e.member, "gpus");
  }
}

TEST(ApiErrorTest, BodyHasTheDocumentedShapeAndOmitsAnEmptyMember) {
  EXPECT_EQ(
      BadRequest("gpus", "gpus: -1 is negative").ToJson().dump(),
      R"({"error":{"code":"INVALID_ARGUMENT","member":"gpus","message":"gpus: -1 is negative","status":400}})");
  EXPECT_EQ(Unauthenticated("no").ToJson().dump(),
            R"({"error":{"code":"UNAUTHENTICATED","message":"no","status":401}})");
}

}  // namespace
}  // namespace gpupool::server
