// libhdf5's own error stack never reaches stderr: a thread-safe libhdf5 keeps
// the auto-print switch per thread, so a failure on a thread other than the
// first that used libhdf5 printed "HDF5-DIAG: Error detected ..." (issue 13).
#include <gtest/gtest.h>

#include <thread>

#include "converters/hdf5/hdf5_handle.hpp"
#include "converters/hdf5/hdf5_reader.hpp"
#include "schema/error.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

TEST(Hdf5QuietThreads, NoErrorStackFromAnotherThread) {
  test::TempDir dir;
  const auto bad = dir / "not_hdf5.h5";
  test::write_file_bytes(bad, std::vector<std::byte>(4096, std::byte{'x'}));
  hdf5::init_library();  // this thread first, as a process that already wrote an .h5 would have
  std::string id, printed;
  std::thread other([&] {
    testing::internal::CaptureStderr();
    try {
      (void)read_hdf5_in_this_process(bad);
    } catch (const Error& e) {
      id = e.id();
    }
    printed = testing::internal::GetCapturedStderr();
  });
  other.join();
  EXPECT_EQ(id, "hdf5.101");
  EXPECT_EQ(printed, "");
}

}  // namespace
}  // namespace supra
