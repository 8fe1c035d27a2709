// The restricted unpickler on raw pickle bytes, then the state-dict finder.
#include <span>

#include "converters/pytorch/restricted_unpickler.hpp"
#include "converters/pytorch/state_dict_finder.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return supra::fuzz::run([&] {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    const auto pickle = supra::pytorch::unpickle(bytes, 0, "fuzz.pt", "data.pkl");
    const auto found = supra::pytorch::find_state_dict(pickle, "", "fuzz.pt");
    for (const auto& t : found.tensors) {
      const auto& ref = pickle.tensors.at(t.tensor);
      (void)pickle.storages.at(ref.storage);
    }
  });
}
