// ConvertOptions::on_plan: the CLI sizes its progress bar from it instead of
// planning in a separate dry run, which opened the input a second time.
#include <gtest/gtest.h>

#include "converters/convert.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

TEST(ConvertOnPlan, CalledOnceWithThePlanBeforeAnythingIsWritten) {
  test::TempDir dir;
  Checkpoint c;
  c.format = "safetensors";
  c.tensors.push_back(test::make_tensor("a", DType::BF16, {64, 32}, 1));
  c.tensors.push_back(test::make_tensor("b", DType::F32, {100}, 2));
  write_checkpoint(choose_output_format(dir / "in.safetensors", ""), c, dir / "in.safetensors", WriteOptions{});

  ConvertOptions options;
  options.dtype = DType::F32;
  int calls = 0;
  uint64_t payload = 0;
  bool output_existed = true;
  options.on_plan = [&](const WritePlan& plan) {
    ++calls;
    payload = plan.payload_bytes;
    output_existed = fs::exists(dir / "out.safetensors");
  };
  const ConvertResult r = convert_checkpoint(dir / "in.safetensors", dir / "out.safetensors", options);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(payload, (64u * 32u + 100u) * 4u);
  EXPECT_EQ(payload, r.plan.payload_bytes);
  EXPECT_FALSE(output_existed);
  EXPECT_TRUE(fs::exists(dir / "out.safetensors"));
}

}  // namespace
}  // namespace supra
