#include "converters/numpy/npy_header.hpp"

#include <cstring>
#include <map>
#include <optional>

#include "schema/error.hpp"

namespace supra::numpy {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

// A parser for the one Python literal numpy writes: a dict of str keys to a
// str, a bool, or a tuple of ints.
class Literal {
 public:
  Literal(const std::string& text, const std::string& file, const std::string& tensor, uint64_t base)
      : s_(text), file_(file), tensor_(tensor), base_(base) {}

  struct Value {
    enum { Str, Bool, Tuple } kind;
    std::string text;
    bool flag = false;
    std::vector<uint64_t> dims;
  };

  std::map<std::string, Value> dict() {
    std::map<std::string, Value> out;
    expect('{');
    for (;;) {
      skip();
      if (peek() == '}') break;
      const std::string key = string();
      expect(':');
      if (!out.emplace(key, value()).second) fail("key '" + key + "' appears twice");
      skip();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}'");
    }
    ++i_;
    skip();
    if (i_ != s_.size()) fail("text after the dict");
    return out;
  }

 private:
  const std::string& s_;
  const std::string& file_;
  const std::string& tensor_;
  uint64_t base_;
  size_t i_ = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw bad_input("numpy.104", {file_, tensor_, base_ + i_}, "header dict: " + what);
  }
  void skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  char peek() {
    skip();
    if (i_ >= s_.size()) fail("ends early");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string string() {
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string");
    const size_t end = s_.find(q, ++i_);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = s_.substr(i_, end - i_);
    if (out.find('\\') != std::string::npos) fail("escapes in strings are not supported");
    i_ = end + 1;
    return out;
  }
  uint64_t integer() {
    skip();
    uint64_t v = 0;
    const size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, uint64_t(s_[i_] - '0'), &v))
        fail("shape value overflows 64 bits");
      ++i_;
    }
    if (i_ == start) fail("expected a non-negative integer");
    if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 long
    return v;
  }
  Value value() {
    const char c = peek();
    Value v{Value::Str, {}, false, {}};
    if (c == '\'' || c == '"') {
      v.text = string();
      return v;
    }
    if (s_.compare(i_, 4, "True") == 0) {
      i_ += 4;
      v.kind = Value::Bool;
      v.flag = true;
      return v;
    }
    if (s_.compare(i_, 5, "False") == 0) {
      i_ += 5;
      v.kind = Value::Bool;
      return v;
    }
    if (c == '(') {
      ++i_;
      v.kind = Value::Tuple;
      for (;;) {
        if (peek() == ')') break;
        v.dims.push_back(integer());
        if (v.dims.size() > 64) fail("more than 64 dimensions");
        if (peek() == ',') {
          ++i_;
          continue;
        }
        if (peek() != ')') fail("expected ',' or ')' in shape");
        if (v.dims.size() == 1) fail("a one-element tuple needs a trailing comma");
      }
      ++i_;
      return v;
    }
    if (c == '[') {  // a structured dtype's descr: kept as text, to be named and skipped
      const size_t start = i_;
      int depth = 0;
      for (; i_ < s_.size(); ++i_) {
        if (s_[i_] == '\'' || s_[i_] == '"') {
          (void)string();  // field names may hold brackets
          --i_;
        } else if (s_[i_] == '[' || s_[i_] == '(') {
          ++depth;
        } else if ((s_[i_] == ']' || s_[i_] == ')') && --depth == 0) {
          break;
        }
      }
      if (i_ >= s_.size()) fail("unterminated structured descr");
      v.text = s_.substr(start, ++i_ - start);
      return v;
    }
    fail("unsupported value (descr must be a type string or a structured list)");
  }
};

std::optional<DType> dtype_from_descr(const std::string& d, bool& big_endian) {
  big_endian = false;
  if (d.size() < 2) return std::nullopt;
  const char order = d[0];
  std::string body = d.substr(1);
  if (order != '<' && order != '|' && order != '=' && order != '>') return std::nullopt;
  for (DType t : kAllDTypes) {
    const std::string_view ours = dtype_numpy_descr(t);
    if (ours.empty() || ours.substr(1) != body) continue;
    if (order == '>' && dtype_size(t) > 1) big_endian = true;
    return t;
  }
  return std::nullopt;
}

// Why an array of numpy type `descr` is no tensor supra can represent.
std::string unsupported_why(const std::string& descr) {
  const char kind = descr.size() >= 2 ? descr[1] : '?';
  if (descr.starts_with("[")) return "a structured (record) array is not a tensor";
  if (kind == 'U' || kind == 'S' || kind == 'a') return "strings are not tensors";
  if (kind == 'O') return "Python objects (pickled) are not tensors";
  if (kind == 'c') return "complex numbers have no supra dtype";
  if (kind == 'M' || kind == 'm') return "datetimes are not tensors";
  return "dtype '" + descr + "' is not supported";
}

}  // namespace

bool has_npy_magic(std::span<const std::byte> head) {
  return head.size() >= kMagicLen && std::memcmp(head.data(), kMagic, kMagicLen) == 0;
}

NpyHeader parse_npy_header(std::span<const std::byte> bytes, const std::string& file, const std::string& tensor,
                           uint64_t base, bool allow_unsupported) {
  if (bytes.size() < 10 || !has_npy_magic(bytes))
    throw bad_input("numpy.101", {file, tensor, base}, "no \\x93NUMPY magic: not a .npy array");
  const uint8_t major = uint8_t(bytes[6]), minor = uint8_t(bytes[7]);
  uint64_t len_size;
  if (major == 1 && minor == 0) len_size = 2;
  else if ((major == 2 || major == 3) && minor == 0) len_size = 4;
  else
    throw bad_input("numpy.102", {file, tensor, base + 6},
                    "format version " + std::to_string(major) + "." + std::to_string(minor) + " is not supported");
  if (bytes.size() < 8 + len_size)
    throw bad_input("numpy.107", {file, tensor, base + 8}, "header is truncated");
  uint64_t len = 0;
  for (uint64_t i = len_size; i-- > 0;) len = len << 8 | uint64_t(bytes[8 + i]);
  if (len > kMaxHeaderText)
    throw bad_input("numpy.103", {file, tensor, base + 8},
                    "header of " + std::to_string(len) + " bytes is over numpy's 10000-byte limit");
  const uint64_t start = 8 + len_size;
  if (bytes.size() - start < len) throw bad_input("numpy.107", {file, tensor, base + start}, "header is truncated");
  const std::string text(reinterpret_cast<const char*>(bytes.data() + start), len);
  auto dict = Literal(text, file, tensor, base + start).dict();
  if (dict.size() != 3 || !dict.count("descr") || !dict.count("fortran_order") || !dict.count("shape"))
    throw bad_input("numpy.104", {file, tensor, base + start},
                    "header keys must be exactly 'descr', 'fortran_order', 'shape'");
  const auto& descr = dict["descr"];
  const auto& fortran = dict["fortran_order"];
  const auto& shape = dict["shape"];
  if (descr.kind != Literal::Value::Str || fortran.kind != Literal::Value::Bool || shape.kind != Literal::Value::Tuple)
    throw bad_input("numpy.104", {file, tensor, base + start}, "header values have the wrong types");
  bool big = false;
  const auto dtype = dtype_from_descr(descr.text, big);
  NpyHeader h;
  h.descr = descr.text;
  if (!dtype || big) {
    h.unsupported_id = dtype ? "numpy.106" : "numpy.105";
    h.unsupported_why = dtype ? "big-endian dtype '" + descr.text + "' is not supported" : unsupported_why(descr.text);
    if (!allow_unsupported) throw bad_input(h.unsupported_id.c_str(), {file, tensor, base + start}, h.unsupported_why);
  }
  h.dtype = dtype.value_or(DType::U8);
  h.fortran_order = fortran.flag;
  h.shape = shape.dims;
  h.data_offset = start + len;
  return h;
}

std::vector<std::byte> make_npy_header(DType dtype, const std::vector<uint64_t>& shape, const std::string& tensor) {
  const std::string_view descr = dtype_numpy_descr(dtype);
  if (descr.empty())
    throw bad_input("numpy.302", {{}, tensor, {}},
                    "numpy has no " + std::string(dtype_name(dtype)) +
                        " type; convert with --dtype f32 (exact for bf16) before writing .npy/.npz");
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  s += shape.size() == 1 ? ",)" : ")";
  std::string text = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + s + ", }";
  // numpy leaves room to grow the first axis in place (GROWTH_AXIS_MAX_DIGITS = 21).
  if (!shape.empty()) text.append(21 - std::to_string(shape[0]).size(), ' ');
  uint64_t len_size = 2;
  uint8_t major = 1;
  if (text.size() + 1 + 64 > 0xFFFF) {
    len_size = 4;
    major = 2;
  }
  const uint64_t hlen = text.size() + 1;
  const uint64_t pad = 64 - (kMagicLen + 2 + len_size + hlen) % 64;
  text.append(pad, ' ');
  text += '\n';
  std::vector<std::byte> out;
  for (size_t i = 0; i < kMagicLen; ++i) out.push_back(std::byte(kMagic[i]));
  out.push_back(std::byte(major));
  out.push_back(std::byte{0});
  for (uint64_t i = 0; i < len_size; ++i) out.push_back(std::byte(text.size() >> (8 * i)));
  for (char c : text) out.push_back(std::byte(c));
  return out;
}

}  // namespace supra::numpy
