// Meta params.json values no FFN width can come from (issue 12 #9): an
// ffn_dim_multiplier of 1e300 or -3 made the float-to-integer conversion in
// spec_from_meta_params undefined (UBSan under tools/test_sanitized.sh; in a
// plain build, a garbage width). Each must be a clean spec.102. The inputs are
// tests/fixtures/regressions/params/*/params.json.
#include <gtest/gtest.h>

#include <fstream>

#include "schema/error.hpp"
#include "schema/model_spec.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

TEST(MetaParamsRegression, OutOfRangeFfnMultipliersAreRefused) {
  int cases = 0;
  for (const auto& dir : std::filesystem::directory_iterator(test::fixture_path("regressions/params"))) {
    std::ifstream in(dir.path() / "params.json");
    const nlohmann::json params = nlohmann::json::parse(in);
    try {
      (void)spec_from_meta_params(params, 260, "params.json");
      ADD_FAILURE() << dir.path() << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.id(), "spec.102") << dir.path();
      EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    }
    ++cases;
  }
  EXPECT_EQ(cases, 2);
}

}  // namespace
}  // namespace supra
