#include "converters/pytorch/restricted_unpickler.hpp"

#include <bit>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <unordered_map>

#include "schema/error.hpp"

namespace supra::pytorch {

const char* kind_name(PyKind kind) {
  switch (kind) {
    case PyKind::None: return "None";
    case PyKind::Bool: return "bool";
    case PyKind::Int: return "int";
    case PyKind::BigInt: return "int";
    case PyKind::Float: return "float";
    case PyKind::Str: return "str";
    case PyKind::Bytes: return "bytes";
    case PyKind::Tuple: return "tuple";
    case PyKind::List: return "list";
    case PyKind::Dict: return "dict";
    case PyKind::Set: return "set";
    case PyKind::Global: return "global";
    case PyKind::Storage: return "storage";
    case PyKind::Tensor: return "tensor";
  }
  return "?";
}

namespace {

// What an allowed global does when called (REDUCE / NEWOBJ).
enum class Callable {
  None, OrderedDict, RebuildTensor, RebuildTensorV2, RebuildTensorV3, RebuildParameter,
  Size, Set, FrozenSet, EmptyBytes, CodecsEncode, Device, Parameter,
  StorageClass, DTypeObject,  // values, not callable
};

struct GlobalInfo {
  Callable callable = Callable::None;
  DType dtype = DType::U8;
  bool untyped = false;
};

std::optional<GlobalInfo> allowed_global(const std::string& module, const std::string& name) {
  const bool builtins = module == "builtins" || module == "__builtin__";
  if (module == "collections" && name == "OrderedDict") return GlobalInfo{Callable::OrderedDict};
  if (module == "torch._utils") {
    if (name == "_rebuild_tensor") return GlobalInfo{Callable::RebuildTensor};
    if (name == "_rebuild_tensor_v2") return GlobalInfo{Callable::RebuildTensorV2};
    if (name == "_rebuild_tensor_v3") return GlobalInfo{Callable::RebuildTensorV3};
    if (name == "_rebuild_parameter" || name == "_rebuild_parameter_with_state")
      return GlobalInfo{Callable::RebuildParameter};
    return std::nullopt;
  }
  if (module == "torch.nn.parameter" && name == "Parameter") return GlobalInfo{Callable::Parameter};
  if (builtins && name == "set") return GlobalInfo{Callable::Set};
  if (builtins && name == "frozenset") return GlobalInfo{Callable::FrozenSet};
  if (builtins && name == "bytes") return GlobalInfo{Callable::EmptyBytes};  // protocol 2's b"" is bytes()
  if (module == "_codecs" && name == "encode") return GlobalInfo{Callable::CodecsEncode};
  if (module == "torch") {
    if (name == "Size") return GlobalInfo{Callable::Size};
    if (name == "device") return GlobalInfo{Callable::Device};
    if (name == "UntypedStorage") return GlobalInfo{Callable::StorageClass, DType::U8, true};
    if (auto t = dtype_from_torch_storage(name)) return GlobalInfo{Callable::StorageClass, *t};
    for (DType t : kAllDTypes)
      if (dtype_torch_name(t) == name) return GlobalInfo{Callable::DTypeObject, t};
  }
  return std::nullopt;
}

constexpr uint8_t MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', BININT = 'J',
                  BININT1 = 'K', BININT2 = 'M', NONE = 'N', BINPERSID = 'Q', REDUCE = 'R',
                  BINSTRING = 'T', SHORT_BINSTRING = 'U', BINUNICODE = 'X', APPEND = 'a', BUILD = 'b',
                  GLOBAL = 'c', DICT = 'd', EMPTY_DICT = '}', APPENDS = 'e', BINGET = 'h', LONG_BINGET = 'j',
                  LIST = 'l', EMPTY_LIST = ']', BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't',
                  EMPTY_TUPLE = ')', SETITEMS = 'u', BINFLOAT = 'G', PROTO = 0x80, NEWOBJ = 0x81,
                  TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a,
                  LONG4 = 0x8b, BINBYTES = 'B', SHORT_BINBYTES = 'C', SHORT_BINUNICODE = 0x8c,
                  BINUNICODE8 = 0x8d, EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91,
                  STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
                  INT = 'I', LONG = 'L';  // protocol 0/1 text opcodes

class Unpickler {
 public:
  Unpickler(std::span<const std::byte> bytes, uint64_t start, const std::string& file, const std::string& what,
            const UnpickleLimits& limits)
      : bytes_(bytes), pos_(start), file_(file), what_(what), limits_(limits) {
    if (limits_.memory_budget == 0) {
      const uint64_t size = start < bytes.size() ? bytes.size() - start : 0;
      limits_.memory_budget = kBaseMemoryBudget + kMemoryPerPickleByte * size;
    }
  }

  PickleResult run() {
    for (;;) {
      op_at_ = pos_;
      const uint8_t op = u8();
      switch (op) {
        case PROTO: {
          const uint8_t v = u8();
          if (v < 2 || v > 5) fail("pytorch.203", fmt::format("pickle protocol {} is not supported", v));
          break;
        }
        case FRAME: (void)take(8); break;
        case STOP: {
          if (stack_.size() != 1 || !marks_.empty()) fail("pytorch.203", "STOP with an unbalanced stack");
          out_.root = stack_.back();
          out_.end = pos_;
          return std::move(out_);
        }
        case MARK:
          charge(sizeof(size_t));
          marks_.push_back(stack_.size());
          break;
        case POP: (void)pop(); break;
        case POP_MARK: (void)pop_mark(); break;
        case DUP: push(top()); break;
        // One shared object each: a stream of 1-byte NONEs must not cost an object per byte.
        case NONE: push(singleton(none_, PyKind::None, 0)); break;
        case NEWTRUE: push(singleton(true_, PyKind::Bool, 1)); break;
        case NEWFALSE: push(singleton(false_, PyKind::Bool, 0)); break;
        case BININT: push(make_int(PyKind::Int, int32_t(le(4)))); break;
        case BININT1: push(make_int(PyKind::Int, u8())); break;
        case BININT2: push(make_int(PyKind::Int, int64_t(le(2)))); break;
        case INT: text_int(line(), false); break;
        case LONG: text_int(line(), true); break;
        case LONG1: long_int(u8()); break;
        case LONG4: long_int(le(4)); break;
        case BINFLOAT: {
          uint64_t bits = 0;
          for (std::byte b : take(8)) bits = bits << 8 | uint64_t(b);  // big-endian
          PyRef r = make(PyKind::Float);
          out_.objects[r].float_value = std::bit_cast<double>(bits);
          push(r);
          break;
        }
        case BINUNICODE: push(make_text(PyKind::Str, take(le(4)))); break;
        case SHORT_BINUNICODE: push(make_text(PyKind::Str, take(u8()))); break;
        case BINUNICODE8: push(make_text(PyKind::Str, take(le(8)))); break;
        case BINSTRING: push(make_text(PyKind::Str, take(le(4)))); break;
        case SHORT_BINSTRING: push(make_text(PyKind::Str, take(u8()))); break;
        case BINBYTES: push(make_text(PyKind::Bytes, take(le(4)))); break;
        case SHORT_BINBYTES: push(make_text(PyKind::Bytes, take(u8()))); break;
        case EMPTY_TUPLE: push(make(PyKind::Tuple)); break;
        case TUPLE1: case TUPLE2: case TUPLE3: {
          const size_t n = op - TUPLE1 + 1;
          if (stack_.size() < n + floor()) fail("pytorch.203", "stack underflow");
          std::vector<PyRef> items(stack_.end() - n, stack_.end());
          stack_.resize(stack_.size() - n);
          push(make_items(PyKind::Tuple, std::move(items)));
          break;
        }
        case TUPLE: push(make_items(PyKind::Tuple, pop_mark())); break;
        case EMPTY_LIST: push(make(PyKind::List)); break;
        case LIST: push(make_items(PyKind::List, pop_mark())); break;
        case EMPTY_DICT: push(make(PyKind::Dict)); break;
        case DICT: {
          auto items = pop_mark();
          if (items.size() % 2) fail("pytorch.203", "DICT with an odd number of items");
          push(make_items(PyKind::Dict, std::move(items)));
          break;
        }
        case EMPTY_SET: push(make(PyKind::Set)); break;
        case FROZENSET: push(make_items(PyKind::Set, pop_mark())); break;
        case APPEND: { PyRef v = pop(); add_items(top(), PyKind::List, {v}); break; }
        case APPENDS: { auto v = pop_mark(); add_items(top(), PyKind::List, v); break; }
        case ADDITEMS: { auto v = pop_mark(); add_items(top(), PyKind::Set, v); break; }
        case SETITEM: { PyRef v = pop(); PyRef k = pop(); add_items(top(), PyKind::Dict, {k, v}); break; }
        case SETITEMS: {
          auto kv = pop_mark();
          if (kv.size() % 2) fail("pytorch.203", "SETITEMS with an odd number of items");
          add_items(top(), PyKind::Dict, kv);
          break;
        }
        case BINPUT: memo_put(u8()); break;
        case LONG_BINPUT: memo_put(le(4)); break;
        case MEMOIZE: memo_put(memo_.size()); break;
        case BINGET: push(memo_get(u8())); break;
        case LONG_BINGET: push(memo_get(le(4))); break;
        case GLOBAL: {
          std::string module = line(), name = line();
          push(make_global(module, name));
          break;
        }
        case STACK_GLOBAL: {
          PyRef name = pop(), module = pop();
          if (obj(name).kind != PyKind::Str || obj(module).kind != PyKind::Str)
            fail("pytorch.203", "STACK_GLOBAL needs two strings");
          // Copies: make_global adds an object, which may move every object's text.
          const std::string module_text = obj(module).text, name_text = obj(name).text;
          push(make_global(module_text, name_text));
          break;
        }
        case REDUCE: case NEWOBJ: {
          PyRef args = pop(), callable = pop();
          if (obj(args).kind != PyKind::Tuple) fail("pytorch.203", "call arguments are not a tuple");
          push(call(callable, args));
          break;
        }
        case BUILD: {
          (void)pop();  // the state: OrderedDict _metadata, tensor state; nothing we need
          const PyKind k = obj(top()).kind;
          if (k != PyKind::Dict && k != PyKind::Tensor)
            fail("pytorch.204", fmt::format("BUILD (setstate) on a {} is not allowed", kind_name(k)));
          break;
        }
        case BINPERSID: push(persistent_load(pop())); break;
        default:
          fail("pytorch.202", fmt::format("opcode 0x{:02x} is not supported by the restricted unpickler", op));
      }
    }
  }

 private:
  std::span<const std::byte> bytes_;
  uint64_t pos_, op_at_ = 0;
  const std::string& file_;
  const std::string& what_;
  UnpickleLimits limits_;
  PickleResult out_;
  std::vector<PyRef> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PyRef> memo_;
  std::map<std::string, uint32_t> storage_by_key_;
  std::unordered_map<PyRef, GlobalInfo> globals_;
  std::optional<PyRef> none_, true_, false_;
  uint64_t charged_ = 0;  // bytes of everything built so far (memory_budget)

  [[noreturn]] void fail(const char* id, const std::string& detail) const {
    throw bad_input(id, {file_, {}, {}}, fmt::format("{} at byte {}: {}", what_, op_at_, detail));
  }

  std::span<const std::byte> take(uint64_t n) {
    if (pos_ > bytes_.size() || n > bytes_.size() - pos_)
      fail("pytorch.203", "pickle ends in the middle of an opcode (truncated)");
    auto s = bytes_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  uint8_t u8() { return uint8_t(take(1)[0]); }
  uint64_t le(int n) {
    uint64_t v = 0;
    auto s = take(n);
    for (int i = n; i-- > 0;) v = v << 8 | uint64_t(s[i]);
    return v;
  }
  std::string line() {
    std::string s;
    for (;;) {
      const char c = char(u8());
      if (c == '\n') return s;
      if (s.size() > 1000) fail("pytorch.203", "a text opcode's line is too long");
      s += c;
    }
  }

  PyObject& obj(PyRef r) { return out_.objects[r]; }
  // Counts `bytes` against the memory budget before they are allocated.
  void charge(uint64_t bytes) {
    charged_ += bytes;
    if (charged_ > limits_.memory_budget)
      fail("pytorch.207", fmt::format("the pickle builds more than {} MiB of objects ({}x its size): "
                                      "refused as a memory bomb",
                                      limits_.memory_budget >> 20, kMemoryPerPickleByte));
  }
  PyRef singleton(std::optional<PyRef>& slot, PyKind kind, int64_t value) {
    if (!slot) slot = make_int(kind, value);
    return *slot;
  }
  PyRef make(PyKind kind) {
    if (out_.objects.size() >= limits_.max_objects)
      fail("pytorch.207", fmt::format("more than {} objects in one pickle", limits_.max_objects));
    charge(sizeof(PyObject));
    out_.objects.emplace_back();
    out_.objects.back().kind = kind;
    return PyRef(out_.objects.size() - 1);
  }
  PyRef make_int(PyKind kind, int64_t v) {
    PyRef r = make(kind);
    obj(r).int_value = v;
    return r;
  }
  PyRef make_text(PyKind kind, std::span<const std::byte> s) {
    charge(s.size());
    PyRef r = make(kind);
    obj(r).text.assign(reinterpret_cast<const char*>(s.data()), s.size());
    return r;
  }
  PyRef make_items(PyKind kind, std::vector<PyRef> items) {
    charge(items.size() * sizeof(PyRef));
    PyRef r = make(kind);
    obj(r).items = std::move(items);
    return r;
  }
  void long_int(uint64_t n) {
    auto s = take(n);
    if (n <= 8) {
      uint64_t v = 0;
      for (size_t i = n; i-- > 0;) v = v << 8 | uint64_t(s[i]);
      if (n > 0 && n < 8 && (uint8_t(s[n - 1]) & 0x80)) v |= ~uint64_t(0) << (8 * n);  // sign-extend
      push(make_int(PyKind::Int, int64_t(v)));
    } else {
      push(make_text(PyKind::BigInt, s));
    }
  }

  // INT ("I42\n", "I01\n" = True) and LONG ("L42L\n") of protocols 0 and 1:
  // decimal text, turned into the little-endian two's complement LONG1 carries.
  void text_int(std::string digits, bool is_long) {
    if (!is_long && (digits == "00" || digits == "01")) {
      push(digits == "01" ? singleton(true_, PyKind::Bool, 1) : singleton(false_, PyKind::Bool, 0));
      return;
    }
    if (is_long && !digits.empty() && digits.back() == 'L') digits.pop_back();
    const bool negative = !digits.empty() && digits[0] == '-';
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.erase(0, 1);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
      fail("pytorch.203", "INT/LONG text is not a decimal number");
    std::vector<uint8_t> mag{0};  // little-endian magnitude, base 256
    for (char c : digits) {
      unsigned carry = unsigned(c - '0');
      for (uint8_t& b : mag) {
        const unsigned v = unsigned(b) * 10 + carry;
        b = uint8_t(v & 0xff);
        carry = v >> 8;
      }
      if (carry) mag.push_back(uint8_t(carry));
    }
    mag.push_back(0);  // room for the sign bit
    if (negative) {    // two's complement: invert, add one
      unsigned carry = 1;
      for (uint8_t& b : mag) {
        const unsigned v = unsigned(uint8_t(~b)) + carry;
        b = uint8_t(v & 0xff);
        carry = v >> 8;
      }
    }
    // Drop redundant sign bytes, as LONG1 would be written.
    const uint8_t fill = negative ? 0xff : 0x00;
    while (mag.size() > 1 && mag.back() == fill && ((mag[mag.size() - 2] & 0x80) == (fill & 0x80))) mag.pop_back();
    const auto* p = reinterpret_cast<const std::byte*>(mag.data());
    if (mag.size() <= 8) {
      uint64_t v = 0;
      for (size_t i = mag.size(); i-- > 0;) v = v << 8 | mag[i];
      if (mag.size() < 8 && (mag.back() & 0x80)) v |= ~uint64_t(0) << (8 * mag.size());
      push(make_int(PyKind::Int, int64_t(v)));
    } else {
      push(make_text(PyKind::BigInt, std::span<const std::byte>(p, mag.size())));
    }
  }

  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(PyRef r) {
    charge(sizeof(PyRef));
    stack_.push_back(r);
  }
  PyRef top() {
    if (stack_.size() <= floor()) fail("pytorch.203", "stack underflow");
    return stack_.back();
  }
  PyRef pop() {
    PyRef r = top();
    stack_.pop_back();
    return r;
  }
  std::vector<PyRef> pop_mark() {
    if (marks_.empty()) fail("pytorch.203", "no MARK on the stack");
    const size_t at = marks_.back();
    marks_.pop_back();
    std::vector<PyRef> items(stack_.begin() + at, stack_.end());
    stack_.resize(at);
    return items;
  }
  void add_items(PyRef target, PyKind want, const std::vector<PyRef>& items) {
    if (obj(target).kind != want)
      fail("pytorch.204", fmt::format("cannot add items to a {} (expected a {})", kind_name(obj(target).kind),
                                      kind_name(want)));
    charge(items.size() * sizeof(PyRef));
    auto& v = obj(target).items;
    v.insert(v.end(), items.begin(), items.end());
  }
  void memo_put(uint64_t id) {
    if (!memo_.count(id)) charge(48);  // a hash node
    memo_[id] = top();
  }
  PyRef memo_get(uint64_t id) {
    auto it = memo_.find(id);
    if (it == memo_.end()) fail("pytorch.203", fmt::format("memo entry {} was never stored", id));
    return it->second;
  }

  PyRef make_global(const std::string& module, const std::string& name) {
    auto info = allowed_global(module, name);
    if (!info) fail("pytorch.201", fmt::format("global {}.{} is not allowed", module, name));
    PyRef r = make(PyKind::Global);
    obj(r).text = module + "." + name;
    globals_[r] = *info;
    return r;
  }

  uint64_t as_count(PyRef r, const char* what) {
    const PyObject& o = obj(r);
    if (o.kind != PyKind::Int || o.int_value < 0)
      fail("pytorch.206", fmt::format("{} must be a non-negative int, not a {}", what, kind_name(o.kind)));
    return uint64_t(o.int_value);
  }
  std::vector<uint64_t> as_dims(PyRef r, const char* what) {
    const PyObject& o = obj(r);
    if (o.kind != PyKind::Tuple) fail("pytorch.206", fmt::format("{} must be a tuple", what));
    if (o.items.size() > limits_.max_rank) fail("pytorch.206", fmt::format("{} has too many dimensions", what));
    std::vector<uint64_t> dims;
    for (PyRef d : std::vector<PyRef>(o.items)) dims.push_back(as_count(d, what));
    return dims;
  }

  PyRef persistent_load(PyRef pid) {
    const std::vector<PyRef> t = obj(pid).items;
    if (obj(pid).kind != PyKind::Tuple || t.size() < 5 || t.size() > 6 || obj(t[0]).kind != PyKind::Str ||
        obj(t[0]).text != "storage")
      fail("pytorch.205", "persistent id is not ('storage', class, key, location, numel)");
    auto g = globals_.find(t[1]);
    if (g == globals_.end() || g->second.callable != Callable::StorageClass)
      fail("pytorch.205", "persistent id does not name a torch storage class");
    if (obj(t[2]).kind != PyKind::Str || obj(t[3]).kind != PyKind::Str)
      fail("pytorch.205", "persistent id key and location must be strings");
    if (t.size() == 6 && obj(t[5]).kind != PyKind::None)
      fail("pytorch.205", "storage views (legacy view_metadata) are not supported");
    StorageRef s;
    s.key = obj(t[2]).text;
    s.location = obj(t[3]).text;
    s.dtype = g->second.dtype;
    s.untyped = g->second.untyped;
    s.numel = as_count(t[4], "storage numel");
    uint32_t index;
    if (auto it = storage_by_key_.find(s.key); it != storage_by_key_.end()) {
      const StorageRef& old = out_.storages[it->second];
      if (old.dtype != s.dtype || old.untyped != s.untyped || old.numel != s.numel)
        fail("pytorch.205", "storage '" + s.key + "' is named twice with different types or sizes");
      index = it->second;
    } else {
      index = uint32_t(out_.storages.size());
      storage_by_key_[s.key] = index;
      out_.storages.push_back(std::move(s));
    }
    PyRef r = make(PyKind::Storage);
    obj(r).index = index;
    return r;
  }

  PyRef rebuild_tensor(const std::vector<PyRef>& a, Callable how) {
    const size_t need = how == Callable::RebuildTensor ? 4 : how == Callable::RebuildTensorV2 ? 6 : 7;
    if (a.size() < need) fail("pytorch.206", "tensor rebuild call has too few arguments");
    if (obj(a[0]).kind != PyKind::Storage) fail("pytorch.206", "tensor rebuild call without a storage");
    TensorRef t;
    t.storage = obj(a[0]).index;
    const StorageRef& s = out_.storages[t.storage];
    t.offset = as_count(a[1], "storage offset");
    t.size = as_dims(a[2], "tensor size");
    t.stride = as_dims(a[3], "tensor stride");
    if (t.size.size() != t.stride.size()) fail("pytorch.206", "size and stride have different ranks");
    if (how == Callable::RebuildTensorV3) {
      auto g = globals_.find(a[6]);
      if (g == globals_.end() || g->second.callable != Callable::DTypeObject)
        fail("pytorch.206", "_rebuild_tensor_v3 needs a torch dtype");
      t.dtype = g->second.dtype;
    } else {
      if (s.untyped) fail("pytorch.206", "an untyped storage needs _rebuild_tensor_v3 with a dtype");
      t.dtype = s.dtype;
    }
    charge(sizeof(TensorRef) + 16 * t.size.size());
    PyRef r = make(PyKind::Tensor);
    obj(r).index = uint32_t(out_.tensors.size());
    out_.tensors.push_back(std::move(t));
    return r;
  }

  // Protocol 2 pickles bytes b as _codecs.encode(b.decode('latin1'), 'latin1'):
  // code point i of the text (stored as UTF-8) is byte i.
  PyRef codecs_encode(const std::vector<PyRef>& a) {
    if (a.empty() || a.size() > 2 || obj(a[0]).kind != PyKind::Str)
      fail("pytorch.204", "_codecs.encode needs a string and an encoding");
    std::string encoding = "utf-8";  // Python's default
    if (a.size() == 2) {
      if (obj(a[1]).kind != PyKind::Str) fail("pytorch.204", "_codecs.encode: the encoding is not a string");
      encoding = obj(a[1]).text;
    }
    charge(obj(a[0]).text.size());  // a string passed many times must not amplify memory (issue 12 #7)
    PyRef r = make(PyKind::Bytes);
    if (encoding == "utf-8" || encoding == "utf8") {
      obj(r).text = obj(a[0]).text;
    } else if (encoding == "latin1" || encoding == "latin-1") {
      obj(r).text = latin1_bytes(obj(a[0]).text);
    } else {
      fail("pytorch.204", "_codecs.encode to '" + encoding + "' is not supported");
    }
    return r;
  }

  // The bytes whose latin-1 decoding is the UTF-8 `text`.
  std::string latin1_bytes(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
      const uint8_t c = uint8_t(text[i]);
      if (c < 0x80) {
        out += char(c);
      } else if ((c == 0xC2 || c == 0xC3) && i + 1 < text.size() && (uint8_t(text[i + 1]) & 0xC0) == 0x80) {
        out += char((c & 0x03) << 6 | (uint8_t(text[++i]) & 0x3F));  // U+0080..U+00FF
      } else {
        fail("pytorch.204", "_codecs.encode: text is not latin-1 (a character above U+00FF or bad UTF-8)");
      }
    }
    return out;
  }

  PyRef call(PyRef callable, PyRef args_ref) {
    auto g = globals_.find(callable);
    if (g == globals_.end())
      fail("pytorch.204", fmt::format("cannot call a {}", kind_name(obj(callable).kind)));
    const std::vector<PyRef> a = obj(args_ref).items;
    const std::string name = obj(callable).text;  // a copy: make() may move the objects
    switch (g->second.callable) {
      case Callable::OrderedDict:
        if (!a.empty()) fail("pytorch.204", "OrderedDict(...) with arguments is not supported");
        return make(PyKind::Dict);
      case Callable::RebuildTensor:
      case Callable::RebuildTensorV2:
      case Callable::RebuildTensorV3:
        return rebuild_tensor(a, g->second.callable);
      case Callable::RebuildParameter:
      case Callable::Parameter:
        if (a.empty() || obj(a[0]).kind != PyKind::Tensor) fail("pytorch.206", name + " needs a tensor");
        return a[0];
      case Callable::Size:
        if (a.size() != 1 || obj(a[0]).kind != PyKind::Tuple) fail("pytorch.206", "torch.Size needs a tuple");
        return a[0];
      case Callable::Set:
      case Callable::FrozenSet: {
        if (a.empty()) return make(PyKind::Set);
        if (a.size() != 1 || (obj(a[0]).kind != PyKind::List && obj(a[0]).kind != PyKind::Tuple))
          fail("pytorch.204", name + " needs a list");
        return make_items(PyKind::Set, obj(a[0]).items);
      }
      case Callable::EmptyBytes:
        if (!a.empty()) fail("pytorch.204", "bytes(...) with arguments is not supported");
        return make(PyKind::Bytes);
      case Callable::CodecsEncode:
        return codecs_encode(a);
      case Callable::Device: {
        if (a.empty() || obj(a[0]).kind != PyKind::Str) fail("pytorch.204", "torch.device needs a string");
        return a[0];
      }
      case Callable::StorageClass:
      case Callable::DTypeObject:
      case Callable::None:
        break;
    }
    fail("pytorch.204", "calling " + name + " is not allowed");
  }
};

}  // namespace

PickleResult unpickle(std::span<const std::byte> bytes, uint64_t start, const std::string& file,
                      const std::string& what, const UnpickleLimits& limits) {
  return Unpickler(bytes, start, file, what, limits).run();
}

}  // namespace supra::pytorch
