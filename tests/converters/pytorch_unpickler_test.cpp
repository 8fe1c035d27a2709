// The restricted unpickler on hand-made hostile pickles: every malformed
// stream is a clean pytorch.2xx error, never a crash or a call.
#include "converters/pytorch/restricted_unpickler.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "converters/pytorch/pytorch_reader.hpp"
#include "converters/pytorch/state_dict_finder.hpp"
#include "converters/zip/zip_reader.hpp"
#include "schema/error.hpp"
#include "schema/mapped_file.hpp"
#include "tests/converters/torch_numpy_expectations.hpp"
#include "tests/test_util.hpp"

namespace supra::pytorch {
namespace {

using namespace std::string_literals;

// Opcode bytes given as numbers, so no string escape swallows a digit.
std::string op(std::initializer_list<int> v) {
  std::string s;
  for (int x : v) s += char(x);
  return s;
}
// BINUNICODE with its u32 length.
std::string u(const std::string& text) { return op({'X', int(text.size()), 0, 0, 0}) + text; }
const std::string kHead = op({0x80, 2});

std::string id_of(const std::string& pickle) {
  std::vector<std::byte> b;
  for (char c : pickle) b.push_back(std::byte(c));
  try {
    auto r = unpickle(b, 0, "t.pt", "data.pkl");
    (void)find_state_dict(r, "", "t.pt");
  } catch (const Error& e) {
    return e.id();
  }
  return "";
}

TEST(PytorchUnpickler, RefusesWhatIsNotAllowed) {
  EXPECT_EQ(id_of(kHead + "cbuiltins\neval\n."), "pytorch.201");
  EXPECT_EQ(id_of(kHead + "ctorch\nload\n."), "pytorch.201");
  EXPECT_EQ(id_of(kHead + "(S'x'\nl."), "pytorch.202");       // STRING (text protocol)
  EXPECT_EQ(id_of(kHead + "(i__main__\nX\n."), "pytorch.202");  // INST
  // Calling something that is allowed to exist but not to be called.
  EXPECT_EQ(id_of(kHead + "ctorch\nFloatStorage\n)R."), "pytorch.204");
  // STACK_GLOBAL is checked the same way.
  EXPECT_EQ(id_of(op({0x80, 4, 0x8c, 2}) + "os" + op({0x8c, 6}) + "system" + op({0x93, '.'})), "pytorch.201");
}

TEST(PytorchUnpickler, MalformedStreamsAreErrors) {
  EXPECT_EQ(id_of(kHead), "pytorch.203");                             // no STOP
  EXPECT_EQ(id_of(kHead + op({'h', 5, '.'})), "pytorch.203");         // memo never stored
  EXPECT_EQ(id_of(kHead + "s."), "pytorch.203");                      // stack underflow
  EXPECT_EQ(id_of(kHead + "t."), "pytorch.203");                      // TUPLE with no MARK
  EXPECT_EQ(id_of(kHead + op({'X', 0xff, 0xff, 0xff, 0x7f})), "pytorch.203");  // string past the end
  EXPECT_EQ(id_of(kHead + op({'}', 'K', 1, '.'})), "pytorch.203");    // two items left at STOP
  EXPECT_EQ(id_of(kHead + op({']', 'K', 1, 'K', 2, 's', '.'})), "pytorch.204");  // SETITEM on a list
  EXPECT_EQ(id_of(kHead + u("x") + "Q."), "pytorch.205");             // persistent id not a storage tuple
}

// {'w': _rebuild_tensor_v2(storage('0', FloatStorage, numel 4), offset, size, stride, False, {})}
std::string tensor_pickle(const std::string& offset, const std::string& size, const std::string& stride) {
  return kHead + "}" + u("w") + "ctorch._utils\n_rebuild_tensor_v2\n" + "((" + u("storage") +
         "ctorch\nFloatStorage\n" + u("0") + u("cpu") + op({'K', 4}) + "tQ" + offset + size + stride +
         op({0x89, '}', 't', 'R', 's', '.'});
}

TEST(PytorchUnpickler, NegativeAndMismatchedViewsAreRefused) {
  EXPECT_EQ(id_of(tensor_pickle(op({'K', 0}), op({'K', 4, 0x85}), op({'K', 1, 0x85}))), "");
  EXPECT_EQ(id_of(tensor_pickle(op({'J', 0xff, 0xff, 0xff, 0xff}), op({'K', 4, 0x85}), op({'K', 1, 0x85}))),
            "pytorch.206");  // offset -1
  EXPECT_EQ(id_of(tensor_pickle(op({'K', 0}), op({'K', 4, 0x85}), op({'K', 1, 'K', 1, 0x86}))),
            "pytorch.206");  // rank mismatch
}

TEST(PytorchUnpickler, SelfReferenceAndDeepNestingDoNotCrash) {
  // d = {}; d['a'] = d  (a cycle), then look for tensors in it.
  EXPECT_EQ(id_of(kHead + op({'}', 'q', 0}) + u("a") + op({'h', 0, 's', '.'})), "pytorch.302");
  // 200000 nested lists: fine to build, no tensors.
  std::string deep = kHead + std::string(200000, ']') + std::string(199999, 'a') + ".";
  EXPECT_EQ(id_of(deep), "pytorch.302");
  // 100 nested dicts around a None leaf.
  std::string dicts = kHead;
  for (int i = 0; i < 100; ++i) dicts += "}" + u("k");
  dicts += "N" + std::string(100, 's') + ".";
  EXPECT_EQ(id_of(dicts), "pytorch.302");
}

TEST(PytorchUnpickler, StripsOnlyCommonPrefixes) {
  std::vector<std::string> a = {"module._orig_mod.x", "module._orig_mod.y"};
  strip_common_module_prefix(a);
  EXPECT_EQ(a, (std::vector<std::string>{"x", "y"}));
  std::vector<std::string> b = {"module.x", "y"};
  strip_common_module_prefix(b);
  EXPECT_EQ(b, (std::vector<std::string>{"module.x", "y"}));
}

}  // namespace
}  // namespace supra::pytorch

// Random damage to real torch.save pickles (past the zip CRC, and the legacy
// format, which has none): only supra::Error may come out.
namespace supra::pytorch {
namespace {

template <typename F>
void expect_only_supra_errors(const std::vector<std::byte>& original, F run, const char* what, int iterations) {
  std::mt19937 rng(99);
  for (int iter = 0; iter < iterations; ++iter) {
    auto bytes = original;
    if (iter % 3 == 2) {
      bytes.resize(rng() % bytes.size());
    } else {
      for (int k = 0; k < 1 + int(rng() % 3); ++k) bytes[rng() % bytes.size()] = std::byte(rng());
    }
    try {
      run(bytes);
    } catch (const Error&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << " iteration " << iter << ": " << e.what();
    }
  }
}

TEST(PytorchUnpickler, MutatedRealPicklesGiveOnlySupraErrors) {
  zip::ZipArchive z(MappedFile::open(test::fixture_path("pytorch/nested.pt").string()));
  const auto pkl = z.read(*z.find("nested/data.pkl"), 1 << 20);
  expect_only_supra_errors(pkl, [](const std::vector<std::byte>& b) {
    auto r = unpickle(b, 0, "t.pt", "data.pkl");
    (void)find_state_dict(r, "", "t.pt");
  }, "data.pkl", 3000);
}

TEST(PytorchUnpickler, MutatedLegacyFilesGiveOnlySupraErrors) {
  test::TempDir dir;
  const auto original = test::read_file_bytes(test::fixture_path("pytorch/legacy.pt"));
  expect_only_supra_errors(original, [&](const std::vector<std::byte>& b) {
    test::write_file_bytes(dir / "l.pt", b);
    Checkpoint c = read_pytorch(dir / "l.pt", {});
    for (const auto& t : c.tensors) (void)t->read_all();
  }, "legacy.pt", 500);
}

}  // namespace
}  // namespace supra::pytorch

// bytes values in real torch.save files (tools/fixtures/make_pytorch_fixtures.py):
// protocol 2 writes them as _codecs.encode(<latin-1 text as UTF-8>, 'latin1')
// and b"" as bytes(); they must come back as the bytes Python saved.
namespace supra::pytorch {
namespace {

// The Bytes values of the root dict of `r`, by key, in hex.
std::map<std::string, std::string> bytes_values(const PickleResult& r) {
  std::map<std::string, std::string> out;
  const PyObject& root = r.objects[r.root];
  EXPECT_EQ(root.kind, PyKind::Dict);
  for (size_t i = 0; i + 1 < root.items.size(); i += 2) {
    const PyObject& v = r.objects[root.items[i + 1]];
    if (v.kind != PyKind::Bytes) continue;
    const auto* p = reinterpret_cast<const std::byte*>(v.text.data());
    out[r.objects[root.items[i]].text] = test::to_hex(std::vector<std::byte>(p, p + v.text.size()));
  }
  return out;
}

std::map<std::string, std::string> expected_bytes() {
  return test::load_expected("pytorch/bytes_values.expected.json")["bytes"].get<std::map<std::string, std::string>>();
}

TEST(PytorchUnpickler, BytesFromTorchSaveComeBackAsSaved) {
  zip::ZipArchive z(MappedFile::open(test::fixture_path("pytorch/bytes_values.pt").string()));
  const auto pkl = z.read(*z.find("bytes_values/data.pkl"), 1 << 20);
  const auto got = bytes_values(unpickle(pkl, 0, "bytes_values.pt", "data.pkl"));
  EXPECT_EQ(got, expected_bytes());
  EXPECT_EQ(got.at("high"), "00417f80c3a9ff");  // the expectation itself has the bytes >= 0x80
  // The tensor beside them is read as torch sees it.
  test::expect_matches(read_pytorch(test::fixture_path("pytorch/bytes_values.pt"), {}),
                       "pytorch/bytes_values.expected.json");
}

TEST(PytorchUnpickler, BytesFromLegacyTorchSaveComeBackAsSaved) {
  const auto file = MappedFile::open(test::fixture_path("pytorch/bytes_values_legacy.pt").string());
  // magic, protocol version, sys_info, then the object.
  uint64_t at = 0;
  for (const char* what : {"magic", "version", "sys_info"}) at = unpickle(file->bytes(), at, "l.pt", what).end;
  EXPECT_EQ(bytes_values(unpickle(file->bytes(), at, "l.pt", "object")), expected_bytes());
  test::expect_matches(read_pytorch(test::fixture_path("pytorch/bytes_values_legacy.pt"), {}),
                       "pytorch/bytes_values.expected.json");
}

TEST(PytorchUnpickler, CodecsEncodeRefusesWhatIsNotLatin1) {
  const std::string encode = kHead + "c_codecs\nencode\n";
  EXPECT_EQ(id_of(encode + u("\xc4\x80") + u("latin1") + op({0x86, 'R', '.'})), "pytorch.204");  // U+0100
  EXPECT_EQ(id_of(encode + u("\xc3") + u("latin1") + op({0x86, 'R', '.'})), "pytorch.204");      // cut UTF-8
  EXPECT_EQ(id_of(encode + u("x") + u("rot13") + op({0x86, 'R', '.'})), "pytorch.204");
  EXPECT_EQ(id_of(kHead + "c__builtin__\nbytes\n" + op({'K', 3, 0x85, 'R', '.'})), "pytorch.204");  // bytes(3)
}

// Protocol 1 writes ints that do not fit 32 bits and bools as text (LONG
// "L...L\n", INT "I01\n"); they must come back as protocol 2's LONG1 /
// NEWTRUE do. Both byte strings are Python's pickle.dumps of
// [0, -5, 2**63-1, -2**63, 2**64, -2**64-1, torch's legacy magic, True, False].
TEST(PytorchUnpickler, TextIntsOfProtocol1EqualProtocol2) {
  auto bytes = [](const std::string& s) {
    std::vector<std::byte> b;
    for (char c : s) b.push_back(std::byte(c));
    return b;
  };
  const auto p1 = bytes("\x5d\x71\x00\x28\x4b\x00\x4a\xfb\xff\xff\xff\x4c\x39\x32\x32\x33\x33\x37\x32\x30\x33\x36\x38\x35\x34\x37\x37\x35\x38\x30\x37\x4c\x0a\x4c\x2d\x39\x32\x32\x33\x33\x37\x32\x30\x33\x36\x38\x35\x34\x37\x37\x35\x38\x30\x38\x4c\x0a\x4c\x31\x38\x34\x34\x36\x37\x34\x34\x30\x37\x33\x37\x30\x39\x35\x35\x31\x36\x31\x36\x4c\x0a\x4c\x2d\x31\x38\x34\x34\x36\x37\x34\x34\x30\x37\x33\x37\x30\x39\x35\x35\x31\x36\x31\x37\x4c\x0a\x4c\x31\x31\x39\x35\x34\x37\x30\x33\x37\x31\x34\x36\x30\x33\x38\x38\x30\x31\x33\x33\x33\x33\x35\x36\x4c\x0a\x49\x30\x31\x0a\x49\x30\x30\x0a\x65\x2e"s);
  const auto p2 = bytes("\x80\x02\x5d\x71\x00\x28\x4b\x00\x4a\xfb\xff\xff\xff\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\xfe\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x88\x89\x65\x2e"s);
  const PickleResult a = unpickle(p1, 0, "p1", "p1"), b = unpickle(p2, 0, "p2", "p2");
  const auto& la = a.objects[a.root].items;
  const auto& lb = b.objects[b.root].items;
  ASSERT_EQ(la.size(), 9u);
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) {
    const PyObject &x = a.objects[la[i]], &y = b.objects[lb[i]];
    EXPECT_EQ(x.kind, y.kind) << i;
    EXPECT_EQ(x.int_value, y.int_value) << i;
    EXPECT_EQ(x.text, y.text) << i;
  }
  // Protocol 0's INT of a negative number, and text that is not a number.
  const auto neg = bytes(kHead + "(I-5\nI7\nl.");
  const PickleResult n = unpickle(neg, 0, "n", "n");
  EXPECT_EQ(n.objects[n.objects[n.root].items[0]].int_value, -5);
  EXPECT_EQ(n.objects[n.objects[n.root].items[1]].int_value, 7);
  EXPECT_EQ(id_of(kHead + "I1x\n."), "pytorch.203");
  EXPECT_EQ(id_of(kHead + "L-L\n."), "pytorch.203");
}

}  // namespace
}  // namespace supra::pytorch
