// The PyTorch writer: data.pkl byte-identical to what torch.save writes,
// a zip that our reader and (in tests/interop/test_pytorch.py) torch.load
// read back bit for bit, 64-byte aligned storages, and clean failures.
#include "converters/pytorch/pytorch_writer.hpp"

#include <gtest/gtest.h>

#include "converters/format.hpp"
#include "converters/pytorch/pytorch_reader.hpp"
#include "converters/pytorch/state_dict_pickler.hpp"
#include "converters/zip/zip_reader.hpp"
#include "schema/error.hpp"
#include "schema/mapped_file.hpp"
#include "tests/converters/torch_numpy_expectations.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using test::fixture_path;

std::vector<std::byte> bytes_of(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int x : v) out.push_back(std::byte(x));
  return out;
}
void append(std::vector<std::byte>& out, const std::string& s) {
  for (char c : s) out.push_back(std::byte(c));
}

// pickletools.dis of CPython's protocol-2 pickle of OrderedDict(w = float32
// (2, 3) tensor on storage "0"), opcode by opcode.
TEST(PytorchPickler, MatchesTheCPythonTestVector) {
  std::vector<std::byte> want = bytes_of({0x80, 2});
  auto op = [&](std::initializer_list<int> v) { auto b = bytes_of(v); want.insert(want.end(), b.begin(), b.end()); };
  auto unicode = [&](const std::string& s) {
    op({'X', int(s.size()), 0, 0, 0});
    append(want, s);
  };
  op({'c'}); append(want, "collections\nOrderedDict\n"); op({'q', 0});
  op({')', 'R', 'q', 1});
  unicode("w"); op({'q', 2});
  op({'c'}); append(want, "torch._utils\n_rebuild_tensor_v2\n"); op({'q', 3});
  op({'(', '('});
  unicode("storage"); op({'q', 4});
  op({'c'}); append(want, "torch\nFloatStorage\n"); op({'q', 5});
  unicode("0"); op({'q', 6});
  unicode("cpu"); op({'q', 7});
  op({'K', 6, 't', 'q', 8, 'Q'});
  op({'K', 0, 'K', 2, 'K', 3, 0x86, 'q', 9, 'K', 3, 'K', 1, 0x86, 'q', 10});
  op({0x89, 'h', 0, ')', 'R', 'q', 11, 't', 'q', 12, 'R', 'q', 13, 's', '.'});
  ASSERT_EQ(want.size(), 169u);
  EXPECT_EQ(pytorch::pickle_state_dict({{"w", DType::F32, {2, 3}, "0"}}, ""), want);
}

std::vector<std::byte> member(const fs::path& file, const std::string& suffix) {
  zip::ZipArchive z(MappedFile::open(file.string()));
  for (const auto& e : z.entries())
    if (e.name.ends_with(suffix)) return z.read(e, 1 << 20);
  ADD_FAILURE() << "no member " << suffix;
  return {};
}

TEST(PytorchWriter, DataPklIsByteIdenticalToTorchSave) {
  test::TempDir dir;
  Checkpoint c = read_pytorch(fixture_path("pytorch/basic.pt"), {});
  write_checkpoint(*find_format("pytorch"), c, dir / "out.pt", {});
  EXPECT_EQ(member(dir / "out.pt", "/data.pkl"), member(fixture_path("pytorch/basic.pt"), "/data.pkl"));
}

TEST(PytorchWriter, RoundTripIsBitExactAndStoragesAreAligned) {
  test::TempDir dir;
  Checkpoint c = read_pytorch(fixture_path("pytorch/views.pt"), {});
  write_checkpoint(*find_format("pytorch"), c, dir / "out.pt", {});
  test::expect_matches(read_pytorch(dir / "out.pt", {}), "pytorch/views.expected.json");
  zip::ZipArchive z(MappedFile::open((dir / "out.pt").string()));
  int storages = 0;
  for (const auto& e : z.entries()) {
    if (e.name.starts_with("archive/data/")) {
      EXPECT_EQ(e.data_offset % 64, 0u) << e.name;
      ++storages;
    }
    z.verify_crc(e);
  }
  EXPECT_EQ(storages, 5);
  EXPECT_NE(z.find("archive/version"), nullptr);
  EXPECT_EQ(z.read(*z.find("archive/byteorder"), 16), bytes_of({'l', 'i', 't', 't', 'l', 'e'}));
}

TEST(PytorchWriter, TorchWrapNestsTheStateDict) {
  test::TempDir dir;
  Checkpoint c = read_pytorch(fixture_path("pytorch/basic.pt"), {});
  WriteOptions o;
  o.torch_wrap = "state_dict";
  write_checkpoint(*find_format("pytorch"), c, dir / "out.pt", o);
  Checkpoint back = read_pytorch(dir / "out.pt", {});
  EXPECT_EQ(back.metadata.at("pytorch.key"), "state_dict");
  test::expect_matches(back, "pytorch/basic.expected.json");
}

TEST(PytorchWriter, DtypesTorch113LacksAreRefusedAndNothingIsLeft) {
  test::TempDir dir;
  Checkpoint c;
  c.tensors.push_back(test::make_tensor("x", DType::F8_E4M3, {4}));
  try {
    write_checkpoint(*find_format("pytorch"), c, dir / "out.pt", {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "pytorch.501");
  }
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
}

TEST(PytorchCli, ConvertsAndRefusesMalformedInputsLeavingNothing) {
  test::TempDir dir;
  auto ok = test::run_supra({"convert", fixture_path("pytorch/nested.pt").string(), (dir / "a.safetensors").string(),
                             "--strip-module-prefix"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  for (const auto& [name, id] : std::vector<std::pair<std::string, std::string>>{
           {"truncated.pt", "zip.101"}, {"bad_crc.pt", "zip.110"}, {"missing_storage.pt", "pytorch.104"},
           {"evil_system.pt", "pytorch.201"}}) {
    auto r = test::run_supra({"convert", fixture_path("pytorch/" + name).string(), (dir / "out.pt").string()});
    EXPECT_EQ(r.exit_code, 3) << name << ": " << r.err;
    EXPECT_NE(r.err.find("[" + id + "]"), std::string::npos) << name << ": " << r.err;
  }
  EXPECT_EQ(test::list_dir(dir.path()), std::vector<std::string>{"a.safetensors"});
}

}  // namespace
}  // namespace supra
