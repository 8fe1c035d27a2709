#pragma once
// GGUF key/value metadata with its exact types, so GGUF -> GGUF keeps every
// value as it was (a u32 stays a u32: llama.cpp refuses a key of the right
// name but the wrong type). In a Checkpoint the KVs live in
// format_metadata["gguf"] as an ordered JSON array of
//   {"key": "general.alignment", "type": "u32", "value": 32}
//   {"key": "tokenizer.ggml.tokens", "type": "array", "element_type": "string", "value": [...]}
// Type names: u8 i8 u16 i16 u32 i32 f32 bool string array u64 i64 f64.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace supra {

// `enum gguf_type` (include/gguf.h); the numbers are the on-disk ids.
enum class GgufValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
inline constexpr uint32_t kGgufValueTypeCount = 13;

std::string_view gguf_value_type_name(GgufValueType t);  // "u32"
std::optional<GgufValueType> gguf_value_type_from_name(std::string_view name);
// Bytes of one value on disk; 0 for STRING and ARRAY (variable length).
size_t gguf_value_type_size(GgufValueType t);
bool gguf_value_type_is_unsigned(GgufValueType t);  // u8 u16 u32 u64
bool gguf_value_type_is_signed(GgufValueType t);    // i8 i16 i32 i64
bool gguf_value_type_is_float(GgufValueType t);     // f32 f64

// One value. Scalars use the field of their kind (unsigned ints in `u`,
// signed in `i`, f32/f64 in `f` (an f32 is exact in a double), bool in `b`,
// string bytes in `s`); an ARRAY holds scalars of `element_type` in `items`.
struct GgufValue {
  GgufValueType type = GgufValueType::U32;
  GgufValueType element_type = GgufValueType::U8;  // ARRAY only
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;
  std::vector<GgufValue> items;

  static GgufValue uint(GgufValueType t, uint64_t v);  // t: u8 u16 u32 u64
  static GgufValue sint(GgufValueType t, int64_t v);   // t: i8 i16 i32 i64
  static GgufValue real(GgufValueType t, double v);    // t: f32 f64
  static GgufValue boolean(bool v);
  static GgufValue string(std::string v);
  static GgufValue array(GgufValueType element_type, std::vector<GgufValue> items);
  static GgufValue u32(uint32_t v) { return uint(GgufValueType::U32, v); }
  static GgufValue f32(float v) { return real(GgufValueType::F32, v); }

  bool operator==(const GgufValue& o) const;
};

struct GgufKV {
  std::string key;
  GgufValue value;
  bool operator==(const GgufKV& o) const { return key == o.key && value == o.value; }
};

const GgufKV* find_gguf_kv(const std::vector<GgufKV>& kvs, std::string_view key);
// Replaces the value of `key` in place, or appends it.
void set_gguf_kv(std::vector<GgufKV>& kvs, std::string key, GgufValue value);
void erase_gguf_kv(std::vector<GgufKV>& kvs, std::string_view key);

// The format_metadata["gguf"] representation (see the top of this file).
nlohmann::ordered_json gguf_kvs_to_json(const std::vector<GgufKV>& kvs);
// Strict: a malformed entry throws bad_input("gguf.306") naming its JSON path.
std::vector<GgufKV> gguf_kvs_from_json(const nlohmann::ordered_json& j);

// A one-line, valid UTF-8 rendering for `inspect`: numbers and strings as
// they are, arrays of up to 8 items in full, longer ones summarized as
// "[32000 x string: "<unk>", "<s>", "</s>", ...]".
std::string gguf_value_summary(const GgufValue& v);

// The exact text of a scalar value, for formats whose metadata is strings
// (safetensors __metadata__): integers in decimal, floats as the shortest
// text that reads back to the same f32/f64, bools as true/false, strings
// as they are. nullopt for arrays, invalid UTF-8 and strings over
// kGgufMaxCarriedStringBytes (a whole tokenizer.huggingface.json).
inline constexpr size_t kGgufMaxCarriedStringBytes = 1u << 20;
std::optional<std::string> gguf_value_string_form(const GgufValue& v);

}  // namespace supra
