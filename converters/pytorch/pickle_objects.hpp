#pragma once
// The values a restricted unpickler can build: plain Python data plus the
// torch objects a state dict is made of (storages by persistent id, tensors
// rebuilt from them). Objects live in one arena and refer to each other by
// index, so cycles and deep nesting cannot blow the C++ stack or leak.
#include <cstdint>
#include <string>
#include <vector>

#include "schema/dtype.hpp"

namespace supra::pytorch {

using PyRef = uint32_t;

enum class PyKind : uint8_t {
  None, Bool, Int, BigInt, Float, Str, Bytes,
  Tuple, List, Dict, Set,
  Global,   // an allowed global, by "module.name" in `text`
  Storage,  // index into PickleResult::storages in `index`
  Tensor,   // index into PickleResult::tensors in `index`
};

struct PyObject {
  PyKind kind = PyKind::None;
  int64_t int_value = 0;       // Bool, Int
  double float_value = 0;      // Float
  std::string text;            // Str, Bytes, BigInt (little-endian two's complement), Global
  std::vector<PyRef> items;    // Tuple, List, Set; Dict as key0, value0, key1, value1, ...
  uint32_t index = 0;          // Storage, Tensor
};

// A storage named by a persistent id ('storage', torch.<X>Storage, key, location, numel).
struct StorageRef {
  std::string key;
  std::string location;
  DType dtype = DType::U8;  // element type of the storage class (U8 for UntypedStorage)
  bool untyped = false;
  uint64_t numel = 0;       // elements of `dtype` (bytes when untyped)
};

// A tensor view of a storage (torch._utils._rebuild_tensor_v2 / v3).
struct TensorRef {
  uint32_t storage = 0;
  DType dtype = DType::F32;
  uint64_t offset = 0;               // elements
  std::vector<uint64_t> size, stride;  // elements
};

struct PickleResult {
  std::vector<PyObject> objects;
  std::vector<StorageRef> storages;
  std::vector<TensorRef> tensors;
  PyRef root = 0;
  uint64_t end = 0;  // offset just past STOP
};

const char* kind_name(PyKind kind);

}  // namespace supra::pytorch
