#include "converters/pytorch/state_dict_pickler.hpp"

#include <algorithm>
#include <functional>
#include <map>

#include "schema/error.hpp"

namespace supra::pytorch {
namespace {

// torch's contiguous strides: sizes of 0 count as 1 (so (3, 0) has strides (1, 1)).
std::vector<uint64_t> torch_strides(const std::vector<uint64_t>& shape) {
  std::vector<uint64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * std::max<uint64_t>(shape[i], 1);
  return strides;
}

class Pickler {
 public:
  std::vector<std::byte> out;

  void op(uint8_t c) { out.push_back(std::byte(c)); }
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out.push_back(std::byte(v >> (8 * i)));
  }
  void raw(const std::string& s) {
    for (char c : s) out.push_back(std::byte(c));
  }
  // CPython: BINPUT below 256 entries, LONG_BINPUT after.
  uint32_t memoize() {
    const uint32_t id = next_memo_++;
    if (id < 256) {
      op('q');
      le(id, 1);
    } else {
      op('r');
      le(id, 4);
    }
    return id;
  }
  void get(uint32_t id) {
    if (id < 256) {
      op('h');
      le(id, 1);
    } else {
      op('j');
      le(id, 4);
    }
  }
  // save_long: BININT1 / BININT2 / BININT, LONG1 above 2^31 - 1.
  void integer(uint64_t v) {
    if (v <= 0xff) {
      op('K');
      le(v, 1);
    } else if (v <= 0xffff) {
      op('M');
      le(v, 2);
    } else if (v < (1ull << 31)) {
      op('J');
      le(v, 4);
    } else {
      std::vector<std::byte> b;
      for (uint64_t x = v; x; x >>= 8) b.push_back(std::byte(x & 0xff));
      if (uint8_t(b.back()) & 0x80) b.push_back(std::byte{0});  // keep it positive
      op(0x8a);
      le(b.size(), 1);
      out.insert(out.end(), b.begin(), b.end());
    }
  }
  // A fresh str object: BINUNICODE + memo.
  void str(const std::string& s) {
    op('X');
    le(s.size(), 4);
    raw(s);
    memoize();
  }
  // An object CPython would reuse by identity: first time saved, then BINGET.
  void shared(const std::string& key, const std::function<void()>& save_first) {
    auto it = shared_.find(key);
    if (it != shared_.end()) return get(it->second);
    save_first();
    shared_[key] = next_memo_ - 1;
  }
  void global(const std::string& module, const std::string& name) {
    shared("global:" + module + "." + name, [&] {
      op('c');
      raw(module + "\n" + name + "\n");
      memoize();
    });
  }
  void shared_str(const std::string& s) {
    shared("str:" + s, [&] { str(s); });
  }
  // save_tuple for a tuple of ints.
  void int_tuple(const std::vector<uint64_t>& v) {
    if (v.empty()) return op(')');
    if (v.size() > 3) op('(');
    for (uint64_t x : v) integer(x);
    op(v.size() > 3 ? 't' : uint8_t(0x85 + v.size() - 1));
    memoize();
  }

 private:
  uint32_t next_memo_ = 0;
  std::map<std::string, uint32_t> shared_;
};

}  // namespace

std::vector<std::byte> pickle_state_dict(const std::vector<PickledTensor>& tensors, const std::string& wrap_key,
                                         std::optional<uint64_t> epoch) {
  Pickler p;
  p.op(0x80);
  p.op(2);
  if (!wrap_key.empty()) {
    p.op('}');
    p.memoize();
    if (epoch) {
      p.str("epoch");
      p.integer(*epoch);
      p.op('s');
    }
    p.str(wrap_key);
  }
  p.global("collections", "OrderedDict");
  p.op(')');
  p.op('R');
  p.memoize();
  // _batch_setitems: batches of 1000; a batch of one uses SETITEM.
  for (size_t start = 0; start < tensors.size(); start += 1000) {
    const size_t end = std::min(tensors.size(), start + 1000);
    if (end - start > 1) p.op('(');
    for (size_t i = start; i < end; ++i) {
      const PickledTensor& t = tensors[i];
      const std::string storage(dtype_torch_storage(t.dtype));
      if (storage.empty())
        throw bad_input("pytorch.501", {{}, t.name, {}},
                        "dtype " + std::string(dtype_name(t.dtype)) +
                            " has no PyTorch 1.13 storage class; convert it with --dtype first");
      uint64_t numel = 1;
      for (uint64_t d : t.shape) numel *= d;  // shape already validated by TensorInfo
      p.str(t.name);
      p.global("torch._utils", "_rebuild_tensor_v2");
      p.op('(');
      // persistent id ('storage', torch.<X>Storage, key, 'cpu', numel)
      p.op('(');
      p.shared_str("storage");
      p.global("torch", storage);
      p.str(t.storage_key);
      p.shared_str("cpu");
      p.integer(numel);
      p.op('t');
      p.memoize();
      p.op('Q');
      p.integer(0);  // storage offset
      p.int_tuple(t.shape);
      p.int_tuple(torch_strides(t.shape));
      p.op(0x89);  // requires_grad False
      // backward_hooks: OrderedDict()
      p.global("collections", "OrderedDict");
      p.op(')');
      p.op('R');
      p.memoize();
      p.op('t');
      p.memoize();
      p.op('R');
      p.memoize();
    }
    p.op(end - start > 1 ? 'u' : 's');
  }
  if (!wrap_key.empty()) p.op('s');
  p.op('.');
  return std::move(p.out);
}

}  // namespace supra::pytorch
