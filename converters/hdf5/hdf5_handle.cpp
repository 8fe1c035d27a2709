#include "converters/hdf5/hdf5_handle.hpp"

#include <mutex>

namespace supra::hdf5 {

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { H5open(); });
  // Every failure becomes a supra::Error; the stack dump would be noise on
  // stderr. A thread-safe libhdf5 keeps this switch per thread.
  thread_local bool quiet = false;
  if (!quiet) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    quiet = true;
  }
}

namespace {
herr_t keep_innermost(unsigned n, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (n == 0 && err && err->desc) *out = err->desc;  // n == 0 is where the error was raised
  return 0;
}
}  // namespace

std::string last_error_message() {
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &message);
  return message;
}

Id::Id(hid_t id, Closer closer) : state_(std::make_shared<State>()) {
  // Filled in place: a temporary State would close the id in its destructor.
  state_->id = id;
  state_->closer = closer;
}

Id::State::~State() {
  if (id >= 0 && closer) closer(id);
}

bool Id::close() {
  if (!state_ || state_->id < 0) return true;
  const herr_t status = state_->closer(state_->id);
  state_->id = H5I_INVALID_HID;
  return status >= 0;
}

Id checked(hid_t id, Id::Closer closer, const char* error_id, const ErrorContext& where,
           const std::string& what) {
  if (id < 0) {
    const std::string why = last_error_message();
    throw bad_input(error_id, where, what + (why.empty() ? "" : ": " + why));
  }
  return Id(id, closer);
}

void check(herr_t status, const char* error_id, const ErrorContext& where, const std::string& what) {
  if (status < 0) {
    const std::string why = last_error_message();
    throw bad_input(error_id, where, what + (why.empty() ? "" : ": " + why));
  }
}

}  // namespace supra::hdf5
