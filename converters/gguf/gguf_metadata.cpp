#include "converters/gguf/gguf_metadata.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "converters/json_strict.hpp"
#include "schema/error.hpp"

namespace supra {
namespace {

constexpr std::string_view kTypeNames[kGgufValueTypeCount] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
constexpr size_t kTypeSizes[kGgufValueTypeCount] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

[[noreturn]] void bad_json(const std::string& path, const std::string& detail) {
  throw bad_input("gguf.306", {}, "format_metadata[\"gguf\"]" + path + ": " + detail);
}

// Range of each integer type, to refuse a JSON value that does not fit.
bool fits(GgufValueType t, uint64_t v) {
  switch (t) {
    case GgufValueType::U8: return v <= 0xFF;
    case GgufValueType::U16: return v <= 0xFFFF;
    case GgufValueType::U32: return v <= 0xFFFFFFFFull;
    default: return true;
  }
}
bool fits(GgufValueType t, int64_t v) {
  switch (t) {
    case GgufValueType::I8: return v >= -128 && v <= 127;
    case GgufValueType::I16: return v >= -32768 && v <= 32767;
    case GgufValueType::I32: return v >= INT32_MIN && v <= INT32_MAX;
    default: return true;
  }
}

nlohmann::ordered_json scalar_to_json(const GgufValue& v) {
  if (gguf_value_type_is_unsigned(v.type)) return v.u;
  if (gguf_value_type_is_signed(v.type)) return v.i;
  if (gguf_value_type_is_float(v.type)) return v.f;
  if (v.type == GgufValueType::BOOL) return v.b;
  return v.s;
}

GgufValue scalar_from_json(GgufValueType t, const nlohmann::ordered_json& j, const std::string& path) {
  if (gguf_value_type_is_unsigned(t)) {
    if (!j.is_number_integer() || (j.is_number_integer() && !j.is_number_unsigned() && j.get<int64_t>() < 0))
      bad_json(path, "expected a non-negative integer");
    const uint64_t v = j.get<uint64_t>();
    if (!fits(t, v)) bad_json(path, fmt::format("{} does not fit {}", v, gguf_value_type_name(t)));
    return GgufValue::uint(t, v);
  }
  if (gguf_value_type_is_signed(t)) {
    if (!j.is_number_integer()) bad_json(path, "expected an integer");
    if (j.is_number_unsigned() && j.get<uint64_t>() > uint64_t(INT64_MAX)) bad_json(path, "integer too large");
    const int64_t v = j.get<int64_t>();
    if (!fits(t, v)) bad_json(path, fmt::format("{} does not fit {}", v, gguf_value_type_name(t)));
    return GgufValue::sint(t, v);
  }
  if (gguf_value_type_is_float(t)) {
    if (!j.is_number()) bad_json(path, "expected a number");
    return GgufValue::real(t, j.get<double>());
  }
  if (t == GgufValueType::BOOL) {
    if (!j.is_boolean()) bad_json(path, "expected true or false");
    return GgufValue::boolean(j.get<bool>());
  }
  if (!j.is_string()) bad_json(path, "expected a string");
  return GgufValue::string(j.get<std::string>());
}

// Appends `s` with control characters and invalid UTF-8 bytes escaped, so the
// result is one valid UTF-8 line.
void append_printable(std::string& out, std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') { out += "\\n"; ++i; continue; }
    if (c == '\t') { out += "\\t"; ++i; continue; }
    if (c < 0x20 || c == 0x7F) { out += fmt::format("\\x{:02x}", c); ++i; continue; }
    if (c < 0x80) { out += char(c); ++i; continue; }
    // Length and minimum code point of a UTF-8 sequence starting with c.
    size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len != 0 && i + len <= s.size();
    uint32_t cp = ok ? (c & (0x7F >> len)) : 0;
    for (size_t k = 1; ok && k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    ok = ok && cp >= kMin[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!ok) { out += fmt::format("\\x{:02x}", c); ++i; continue; }
    out.append(s.substr(i, len));
    i += len;
  }
}

std::string scalar_summary(const GgufValue& v, bool quote_strings) {
  if (gguf_value_type_is_unsigned(v.type)) return std::to_string(v.u);
  if (gguf_value_type_is_signed(v.type)) return std::to_string(v.i);
  if (v.type == GgufValueType::F32) return fmt::format("{}", float(v.f));
  if (v.type == GgufValueType::F64) return fmt::format("{}", v.f);
  if (v.type == GgufValueType::BOOL) return v.b ? "true" : "false";
  constexpr size_t kMaxString = 1024;  // long strings (chat templates, tokenizer json) are cut
  std::string out = quote_strings ? "\"" : "";
  append_printable(out, std::string_view(v.s).substr(0, kMaxString));
  if (v.s.size() > kMaxString) out += fmt::format("... ({} bytes)", v.s.size());
  if (quote_strings) out += "\"";
  return out;
}

}  // namespace

std::string_view gguf_value_type_name(GgufValueType t) {
  const auto i = static_cast<uint32_t>(t);
  return i < kGgufValueTypeCount ? kTypeNames[i] : "?";
}

std::optional<GgufValueType> gguf_value_type_from_name(std::string_view name) {
  for (uint32_t i = 0; i < kGgufValueTypeCount; ++i)
    if (kTypeNames[i] == name) return static_cast<GgufValueType>(i);
  return std::nullopt;
}

size_t gguf_value_type_size(GgufValueType t) {
  const auto i = static_cast<uint32_t>(t);
  return i < kGgufValueTypeCount ? kTypeSizes[i] : 0;
}

bool gguf_value_type_is_unsigned(GgufValueType t) {
  return t == GgufValueType::U8 || t == GgufValueType::U16 || t == GgufValueType::U32 || t == GgufValueType::U64;
}
bool gguf_value_type_is_signed(GgufValueType t) {
  return t == GgufValueType::I8 || t == GgufValueType::I16 || t == GgufValueType::I32 || t == GgufValueType::I64;
}
bool gguf_value_type_is_float(GgufValueType t) { return t == GgufValueType::F32 || t == GgufValueType::F64; }

GgufValue GgufValue::uint(GgufValueType t, uint64_t v) {
  GgufValue r;
  r.type = t;
  r.u = v;
  return r;
}
GgufValue GgufValue::sint(GgufValueType t, int64_t v) {
  GgufValue r;
  r.type = t;
  r.i = v;
  return r;
}
GgufValue GgufValue::real(GgufValueType t, double v) {
  GgufValue r;
  r.type = t;
  r.f = t == GgufValueType::F32 ? double(float(v)) : v;
  return r;
}
GgufValue GgufValue::boolean(bool v) {
  GgufValue r;
  r.type = GgufValueType::BOOL;
  r.b = v;
  return r;
}
GgufValue GgufValue::string(std::string v) {
  GgufValue r;
  r.type = GgufValueType::STRING;
  r.s = std::move(v);
  return r;
}
GgufValue GgufValue::array(GgufValueType element_type, std::vector<GgufValue> items) {
  GgufValue r;
  r.type = GgufValueType::ARRAY;
  r.element_type = element_type;
  r.items = std::move(items);
  return r;
}

bool GgufValue::operator==(const GgufValue& o) const {
  if (type != o.type) return false;
  if (gguf_value_type_is_unsigned(type)) return u == o.u;
  if (gguf_value_type_is_signed(type)) return i == o.i;
  // Bit equality, so NaN payloads and -0.0 count.
  if (gguf_value_type_is_float(type)) return std::memcmp(&f, &o.f, sizeof f) == 0;
  if (type == GgufValueType::BOOL) return b == o.b;
  if (type == GgufValueType::STRING) return s == o.s;
  return element_type == o.element_type && items == o.items;
}

const GgufKV* find_gguf_kv(const std::vector<GgufKV>& kvs, std::string_view key) {
  for (const GgufKV& kv : kvs)
    if (kv.key == key) return &kv;
  return nullptr;
}

void set_gguf_kv(std::vector<GgufKV>& kvs, std::string key, GgufValue value) {
  for (GgufKV& kv : kvs)
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  kvs.push_back({std::move(key), std::move(value)});
}

void erase_gguf_kv(std::vector<GgufKV>& kvs, std::string_view key) {
  std::erase_if(kvs, [&](const GgufKV& kv) { return kv.key == key; });
}

nlohmann::ordered_json gguf_kvs_to_json(const std::vector<GgufKV>& kvs) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const GgufKV& kv : kvs) {
    nlohmann::ordered_json e;
    e["key"] = kv.key;
    e["type"] = gguf_value_type_name(kv.value.type);
    if (kv.value.type == GgufValueType::ARRAY) {
      e["element_type"] = gguf_value_type_name(kv.value.element_type);
      nlohmann::ordered_json items = nlohmann::ordered_json::array();
      for (const GgufValue& item : kv.value.items) items.push_back(scalar_to_json(item));
      e["value"] = std::move(items);
    } else {
      e["value"] = scalar_to_json(kv.value);
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<GgufKV> gguf_kvs_from_json(const nlohmann::ordered_json& j) {
  if (!j.is_array()) bad_json("", "expected an array of {key, type, value}");
  std::vector<GgufKV> kvs;
  for (size_t n = 0; n < j.size(); ++n) {
    const std::string path = fmt::format("[{}]", n);
    const auto& e = j[n];
    if (!e.is_object()) bad_json(path, "expected an object");
    for (const auto& [k, _] : e.items())
      if (k != "key" && k != "type" && k != "value" && k != "element_type") bad_json(path, "unknown field '" + k + "'");
    if (!e.contains("key") || !e["key"].is_string() || e["key"].get<std::string>().empty())
      bad_json(path + ".key", "expected a non-empty string");
    if (!e.contains("type") || !e["type"].is_string()) bad_json(path + ".type", "expected a type name");
    if (!e.contains("value")) bad_json(path + ".value", "missing");
    const auto type = gguf_value_type_from_name(e["type"].get<std::string>());
    if (!type) bad_json(path + ".type", "unknown type '" + e["type"].get<std::string>() + "'");
    GgufKV kv{e["key"].get<std::string>(), {}};
    if (find_gguf_kv(kvs, kv.key)) bad_json(path + ".key", "duplicate key '" + kv.key + "'");
    if (*type == GgufValueType::ARRAY) {
      if (!e.contains("element_type") || !e["element_type"].is_string()) bad_json(path + ".element_type", "missing");
      const auto elem = gguf_value_type_from_name(e["element_type"].get<std::string>());
      if (!elem || *elem == GgufValueType::ARRAY) bad_json(path + ".element_type", "not a scalar type");
      if (!e["value"].is_array()) bad_json(path + ".value", "expected an array");
      std::vector<GgufValue> items;
      items.reserve(e["value"].size());
      for (size_t k = 0; k < e["value"].size(); ++k)
        items.push_back(scalar_from_json(*elem, e["value"][k], fmt::format("{}.value[{}]", path, k)));
      kv.value = GgufValue::array(*elem, std::move(items));
    } else {
      if (e.contains("element_type")) bad_json(path + ".element_type", "only arrays have one");
      kv.value = scalar_from_json(*type, e["value"], path + ".value");
    }
    kvs.push_back(std::move(kv));
  }
  return kvs;
}

std::string gguf_value_summary(const GgufValue& v) {
  if (v.type != GgufValueType::ARRAY) return scalar_summary(v, false);
  constexpr size_t kFull = 8, kPreview = 3;
  const bool full = v.items.size() <= kFull;
  std::string out = "[";
  if (!full) out += fmt::format("{} x {}: ", v.items.size(), gguf_value_type_name(v.element_type));
  const size_t shown = full ? v.items.size() : kPreview;
  for (size_t k = 0; k < shown; ++k) {
    if (k) out += ", ";
    out += scalar_summary(v.items[k], true);
  }
  if (!full) out += ", ...";
  return out + "]";
}

std::optional<std::string> gguf_value_string_form(const GgufValue& v) {
  switch (v.type) {
    case GgufValueType::U8: case GgufValueType::U16: case GgufValueType::U32: case GgufValueType::U64:
      return std::to_string(v.u);
    case GgufValueType::I8: case GgufValueType::I16: case GgufValueType::I32: case GgufValueType::I64:
      return std::to_string(v.i);
    case GgufValueType::F32: return fmt::format("{}", float(v.f));
    case GgufValueType::F64: return fmt::format("{}", v.f);
    case GgufValueType::BOOL: return std::string(v.b ? "true" : "false");
    case GgufValueType::STRING:
      if (v.s.size() > kGgufMaxCarriedStringBytes || first_invalid_utf8(v.s)) return std::nullopt;
      return v.s;
    case GgufValueType::ARRAY: break;
  }
  return std::nullopt;
}

}  // namespace supra
