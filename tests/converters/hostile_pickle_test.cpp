// The restricted unpickler and the state-dict finder on hostile pickles
// (issue 12 #1, #5, #6, #7): a use-after-free in STACK_GLOBAL, a memory
// budget proportional to the pickle, shared None, and dicts that are shared
// or hold themselves flattened once in linear time. The files that found
// them are replayed end to end by tests/tools/regression_inputs_test.cpp.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <functional>

#include "converters/pytorch/restricted_unpickler.hpp"
#include "converters/pytorch/state_dict_finder.hpp"
#include "schema/error.hpp"

namespace supra {
namespace {

using namespace pytorch;

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

std::string error_id_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.id();
  }
  return "";
}

// A literal with its embedded NULs (escapes end at each literal's quote).
template <size_t N>
std::string B(const char (&s)[N]) {
  return std::string(s, N - 1);
}

// PROTO 4; "collections"; "OrderedDict"; STACK_GLOBAL; STOP: the 30-byte
// pickle of issue 12 #1. make_global used to read both strings after adding
// an object, which moved them (a use-after-free that ASan reports).
TEST(HostilePickle, StackGlobalKeepsItsStrings) {
  const std::string pickle = B("\x80\x04\x8c\x0b") + "collections" + B("\x8c\x0b") + "OrderedDict" + B("\x93.");
  ASSERT_EQ(pickle.size(), 30u);
  const PickleResult r = unpickle(bytes_of(pickle), 0, "t.pt", "data.pkl");
  EXPECT_EQ(r.objects[r.root].kind, PyKind::Global);
  EXPECT_EQ(r.objects[r.root].text, "collections.OrderedDict");
}

TEST(HostilePickle, ObjectsOverTheMemoryBudgetAreRefused) {
  // A 64 KiB string, then 100 BINGETs of it passed to _codecs.encode: 6.4 MB
  // from a 64 KiB pickle.
  std::string p = B("\x80\x02") + "c_codecs\nencode\n" + B("q\x00") + "0";  // BINPUT, POP
  p += "X" + B("\x00\x00\x01\x00") + std::string(1 << 16, 'a') + B("q\x01") + "0";
  p += B("\x8c\x06") + "latin1" + B("q\x02") + "0" + "(";
  for (int i = 0; i < 100; ++i) p += B("h\x00h\x01h\x02\x86R");
  p += "l.";
  UnpickleLimits limits;
  limits.memory_budget = 1 << 20;
  EXPECT_EQ(error_id_of([&] { (void)unpickle(bytes_of(p), 0, "t.pt", "data.pkl", limits); }), "pytorch.207");
  limits.memory_budget = 64 << 20;  // enough: the same pickle reads
  EXPECT_EQ(error_id_of([&] { (void)unpickle(bytes_of(p), 0, "t.pt", "data.pkl", limits); }), "");
}

TEST(HostilePickle, NonesShareOneObject) {
  const std::string p = B("\x80\x02") + "(" + std::string(100000, 'N') + "t.";
  const PickleResult r = unpickle(bytes_of(p), 0, "t.pt", "data.pkl");
  EXPECT_LT(r.objects.size(), 10u);
  EXPECT_EQ(r.objects[r.root].items.size(), 100000u);
}

std::string key(const char* k) { return B("\x8c") + char(std::strlen(k)) + k; }

// {'w': _rebuild_tensor_v2(storage '0' FloatStorage numel 2, 0, (2,), (1,), False, {})}
std::string one_tensor_dict() {
  return B("\x80\x02") + "}" + key("w") + "ctorch._utils\n_rebuild_tensor_v2\n((" + key("storage") +
         "ctorch\nFloatStorage\n" + key("0") + key("cpu") + B("K\x02tQK\x00K\x02\x85K\x01\x85\x89}tRs");
}

TEST(HostilePickle, SharedDictsAreFlattenedOnce) {
  // 24 levels of {a: D, b: D}: BINPUT 0 the dict below, then a dict holding it twice.
  std::string p = one_tensor_dict();
  for (int i = 0; i < 24; ++i) p += B("q\x00") + "0}(" + key("a") + B("h\x00") + key("b") + B("h\x00") + "u";
  p += ".";
  const PickleResult r = unpickle(bytes_of(p), 0, "t.pt", "data.pkl");
  const auto start = std::chrono::steady_clock::now();
  const FoundTensors found = find_state_dict(r, "", "t.pt");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
  ASSERT_EQ(found.tensors.size(), 1u);  // not 2^24
  std::string name;
  for (int i = 0; i < 24; ++i) name += "a.";
  EXPECT_EQ(found.tensors[0].name, name + "w");
  EXPECT_EQ(found.skipped.size(), 24u);  // each level's "b", already read as "a"
}

TEST(HostilePickle, ADictHoldingItselfTwiceEndsAtOnce) {
  // d = {}; d['a'] = d; d['b'] = d: 2^32 paths for a finder without a visited set.
  const std::string p = B("\x80\x02}q\x00(") + key("a") + B("h\x00") + key("b") + B("h\x00") + "u.";
  const PickleResult r = unpickle(bytes_of(p), 0, "t.pt", "data.pkl");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_id_of([&] { (void)find_state_dict(r, "", "t.pt"); }), "pytorch.302");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
}

}  // namespace
}  // namespace supra
