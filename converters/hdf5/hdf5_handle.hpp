#pragma once
// Small RAII and error helpers around the libhdf5 C API: ids that close
// themselves, the library's own error printing silenced, and the message of
// a failed call turned into a supra::Error with a stable id.
#include <hdf5.h>

#include <memory>
#include <string>

#include "schema/error.hpp"

namespace supra::hdf5 {

// Silences libhdf5's automatic error-stack printing; a thread-safe libhdf5
// keeps that switch per thread, so call it on each thread before any other
// HDF5 call.
void init_library();

// The innermost message of the current thread's HDF5 error stack ("" if none).
std::string last_error_message();

// An HDF5 id closed with the matching H5?close when the last owner goes.
class Id {
 public:
  using Closer = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Closer closer);
  hid_t get() const { return state_ ? state_->id : H5I_INVALID_HID; }
  explicit operator bool() const { return get() >= 0; }
  // Closes now and reports whether the close succeeded (files: flush errors).
  bool close();

 private:
  struct State {
    hid_t id = H5I_INVALID_HID;
    Closer closer = nullptr;
    State() = default;
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    ~State();
  };
  std::shared_ptr<State> state_;
};

// Wraps a freshly created id; throws bad_input(error_id) with the HDF5
// message when `id` is negative.
Id checked(hid_t id, Id::Closer closer, const char* error_id, const ErrorContext& where,
           const std::string& what);
// Throws bad_input(error_id) when an herr_t / htri_t result is negative.
void check(herr_t status, const char* error_id, const ErrorContext& where, const std::string& what);

inline Id file_id(hid_t id) { return Id(id, H5Fclose); }
inline Id group_id(hid_t id) { return Id(id, H5Gclose); }
inline Id dataset_id(hid_t id) { return Id(id, H5Dclose); }
inline Id space_id(hid_t id) { return Id(id, H5Sclose); }
inline Id type_id(hid_t id) { return Id(id, H5Tclose); }
inline Id attr_id(hid_t id) { return Id(id, H5Aclose); }
inline Id plist_id(hid_t id) { return Id(id, H5Pclose); }

}  // namespace supra::hdf5
