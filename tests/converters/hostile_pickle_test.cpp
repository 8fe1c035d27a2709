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

}  // namespace
}  // namespace supra
