#include "converters/hdf5/hdf5_wire.hpp"

#include <cstring>

namespace supra::hdf5 {

void WireWriter::error(const Error& e) {
  u8(uint8_t(e.kind()));
  str(e.id());
  str(e.where().file);
  str(e.where().tensor);
  u8(e.where().offset.has_value());
  u64(e.where().offset.value_or(0));
  str(e.detail());
}

void WireReader::malformed(const std::string& why) const {
  throw bad_input("hdf5.113", {file_, {}, {}}, "the libhdf5 worker sent a malformed reply (" + why + ")");
}

std::string_view WireReader::take(uint64_t n) {
  if (n > bytes_.size() - pos_) malformed("ends early");
  const std::string_view s = bytes_.substr(pos_, n);
  pos_ += n;
  return s;
}

uint8_t WireReader::u8() { return uint8_t(take(1)[0]); }

uint64_t WireReader::u64() {
  uint64_t v;
  std::memcpy(&v, take(8).data(), 8);
  return v;
}

std::string WireReader::str() { return std::string(take(u64())); }

Error WireReader::error() {
  const uint8_t kind = u8();
  if (kind > uint8_t(ErrorKind::Internal)) malformed("error kind");
  std::string id = str();
  ErrorContext where;
  where.file = str();
  where.tensor = str();
  const bool has_offset = u8() != 0;
  const uint64_t offset = u64();
  if (has_offset) where.offset = offset;
  std::string detail = str();
  return Error(ErrorKind(kind), std::move(id), std::move(where), std::move(detail));
}

}  // namespace supra::hdf5
