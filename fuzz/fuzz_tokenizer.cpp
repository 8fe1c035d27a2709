// tokenizer.json (with or without tokenizer_config.json) to GGUF tokenizer
// keys, then those keys parsed back as the GGUF writer does.
#include "converters/gguf/gguf_metadata.hpp"
#include "converters/tokenizer/hf_tokenizer_to_gguf.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return supra::fuzz::run([&] {
    // The first byte picks the vocabulary size and whether a config exists.
    const uint64_t vocab = size ? 1 + data[0] : 1;
    const auto folder = supra::fuzz::write_input(data, size, "tok/tokenizer.json").parent_path();
    std::error_code ec;
    std::filesystem::remove(folder / "tokenizer_config.json", ec);
    if (size && (data[0] & 1))  // the same text as the config too
      supra::fuzz::write_input(data, size, "tok/tokenizer_config.json");
    const auto kvs = supra::hf_tokenizer_to_gguf_kvs(folder, vocab);
    (void)supra::gguf_kvs_from_json(kvs);
  });
}
