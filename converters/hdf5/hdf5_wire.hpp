#pragma once
// The byte format between supra and its libhdf5 worker process
// (hdf5_worker.hpp): little-endian integers and length-prefixed strings.
// The reader checks every length against what is left, since a worker that
// libhdf5 corrupted may send anything (hdf5.113).
#include <cstdint>
#include <string>
#include <string_view>

#include "schema/error.hpp"

namespace supra::hdf5 {

class WireWriter {
 public:
  void u8(uint8_t v) { bytes_.push_back(char(v)); }
  void u64(uint64_t v) { bytes_.append(reinterpret_cast<const char*>(&v), 8); }
  void str(std::string_view s) {
    u64(s.size());
    bytes_.append(s);
  }
  void error(const Error& e);  // kind, id, where, detail
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

class WireReader {
 public:
  WireReader(std::string_view bytes, std::string file) : bytes_(bytes), file_(std::move(file)) {}
  uint8_t u8();
  uint64_t u64();
  std::string str();
  Error error();  // what WireWriter::error wrote
  bool at_end() const { return pos_ == bytes_.size(); }
  [[noreturn]] void malformed(const std::string& why) const;

 private:
  std::string_view take(uint64_t n);
  std::string_view bytes_;
  std::string file_;
  uint64_t pos_ = 0;
};

}  // namespace supra::hdf5
